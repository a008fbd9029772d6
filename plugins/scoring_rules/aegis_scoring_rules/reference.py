"""The same VELOCITY, AMOUNT and GEO computation in plain Python (lists, dicts, deques).

It is the oracle the tests compare the numba kernels against, and the baseline benchmarks
measure them by. It shares only the configuration and the parsed FATF list with the engine:
windows, rings, Welford updates and the country lookup are written again here, loop by loop.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.fatf import FatfList


@dataclass
class _Account:
    payments: deque  # (time_ns, amount), oldest first, at most ring_size
    history: int = 0
    mean: float = 0.0
    m2: float = 0.0


@dataclass
class ReferenceScores:
    velocity: list[float] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)
    geo: list[float] = field(default_factory=list)


def _ramp(value: float, start: float, full: float) -> float:
    if value <= start:
        return 0.0
    if value >= full:
        return 1.0
    return (value - start) / (full - start)


class ReferenceRules:
    """Plain-Python rules with the engine's semantics; ``score_arrays`` takes the same columns."""

    def __init__(self, config: RulesConfig, fatf: FatfList):
        self.config = config
        self.accounts: dict[int, _Account] = {}
        scores = config.geo.status_scores
        self.country_scores = {iso2: scores[e.status] for iso2, e in fatf.entries.items()}

    def score_arrays(self, debtor_account: np.ndarray, amount: np.ndarray, created_at_ns: np.ndarray,
                     debtor_country: np.ndarray, creditor_country: np.ndarray) -> ReferenceScores:
        out = ReferenceScores()
        rows = zip(np.asarray(debtor_account).tolist(), np.asarray(amount, dtype=float).tolist(),
                   np.asarray(created_at_ns).tolist(), np.asarray(debtor_country).tolist(),
                   np.asarray(creditor_country).tolist(), strict=True)
        for account_id, x, t, debtor_cc, creditor_cc in rows:
            account = self.accounts.get(account_id)
            if account is None:
                account = self.accounts[account_id] = _Account(deque(maxlen=self.config.velocity.ring_size))
            out.velocity.append(self._velocity(account, t, x))
            out.amount.append(self._amount(account, x))
            out.geo.append(max(self._country(debtor_cc), self._country(creditor_cc)))
        return out

    def _velocity(self, account: _Account, t: int, x: float) -> float:
        cfg = self.config.velocity
        if account.payments and t < account.payments[-1][0]:
            t = account.payments[-1][0]  # late payments count at the account's latest time
        best = 0.0
        for w in cfg.windows:
            span = w.ns
            recent = [a for (ts, a) in reversed(account.payments) if t - ts < span]
            count = 1 + len(recent)
            total = x + sum(recent)
            ratios = []
            if w.max_count is not None:
                ratios.append(count / w.max_count)
            if w.max_sum is not None:
                ratios.append(total / w.max_sum)
            best = max(best, _ramp(max(ratios), cfg.ramp_from, 1.0))
        account.payments.append((t, x))
        return best

    def _amount(self, account: _Account, x: float) -> float:
        cfg = self.config.amount
        if not (x > 0 and math.isfinite(x)):
            return 0.0
        v = math.log(x)
        score = 0.0
        if account.history >= cfg.min_history:
            std = max(math.sqrt(account.m2 / (account.history - 1)), cfg.min_std)
            score = _ramp((v - account.mean) / std, cfg.z_start, cfg.z_full)
        if cfg.large_amount is not None and x >= cfg.large_amount:
            score = 1.0
        account.history += 1
        delta = v - account.mean
        account.mean += delta / account.history
        account.m2 += delta * (v - account.mean)
        return score

    def _country(self, code: int) -> float:
        if code < 0:
            return 0.0
        iso2 = chr(65 + code // 26) + chr(65 + code % 26)
        return self.country_scores.get(iso2, 0.0)
