"""The CONSORTIUM factor: payments whose debtor or creditor a valid peer signal names."""

from __future__ import annotations

import numpy as np
from aegis_zkp_groth16.consortium import pseudonym

from aegis.model import Batch, FactorScores
from aegis_scoring_consortium.book import Accepted

RC_CONSORTIUM_SIGNAL = "RC_CONSORTIUM_SIGNAL"
FACTOR = "CONSORTIUM"
SIDES = ("debtor", "creditor")
CACHE_LIMIT = 1_000_000


class ConsortiumScorer:
    """Pseudonymises each account once (cached) and looks it up among the accepted signals."""

    def __init__(self, pseudonym_key: bytes, score: float, max_age_ns: int, max_skew_ns: int, details: bool):
        self._key, self.score_value, self.details = pseudonym_key, score, details
        self.max_age_ns, self.max_skew_ns = max_age_ns, max_skew_ns
        self._pseudonyms: dict[str, str] = {}

    def pseudonym(self, account: str) -> str:
        p = self._pseudonyms.get(account)
        if p is None:
            if len(self._pseudonyms) >= CACHE_LIMIT:
                self._pseudonyms.clear()
            p = self._pseudonyms[account] = pseudonym(self._key, account)
        return p

    def score(self, batch: Batch, by_entity: dict[str, tuple[Accepted, ...]]) -> FactorScores:
        n = batch.n
        scores = np.zeros(n, dtype=np.float64)
        details: list[str | None] | None = [None] * n if self.details else None
        if not by_entity or n == 0:
            return FactorScores(scores, RC_CONSORTIUM_SIGNAL, details)
        accounts = {"debtor": batch.debtor_account_str, "creditor": batch.creditor_account_str}
        flagged = {a: hits for a in set(accounts["debtor"]) | set(accounts["creditor"])
                   if (hits := by_entity.get(self.pseudonym(a)))}
        if not flagged:
            return FactorScores(scores, RC_CONSORTIUM_SIGNAL, details)
        created = batch.created_at_ns.tolist()
        for i in range(n):
            matches = []
            for side in SIDES:
                for a in flagged.get(accounts[side][i], ()):
                    # judged by the payment's own time, never the clock: a replay decides alike
                    if -self.max_skew_ns <= created[i] - a.issued_at_ns <= self.max_age_ns:
                        matches.append((side, a))
            if matches:
                scores[i] = self.score_value
                if details is not None:
                    details[i] = explain(matches)
        return FactorScores(scores, RC_CONSORTIUM_SIGNAL, details)


def explain(matches: list[tuple[str, Accepted]]) -> str:
    """E.g. ``creditor named by 2 consortium signals: bank-b 3f2a… (blocked as creditor, 2026-05-01T…)``."""
    sides = " and ".join(dict.fromkeys(side for side, _ in matches))
    shown = "; ".join(f"{a.issuer} {a.signal_id} (blocked as {a.role}, {a.issued_at:%Y-%m-%dT%H:%M:%SZ})"
                      for _, a in matches[:3])
    more = f"; and {len(matches) - 3} more" if len(matches) > 3 else ""
    return f"{sides} named by {len(matches)} consortium signal{'s' if len(matches) > 1 else ''}: {shown}{more}"
