"""Short explanations of non-zero scores for decision records (built only where a score is > 0).

What the explanations of a rule set share is formatted once, into its :class:`Phrases`, so a
batch pays only for the scores it explains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.fatf import FatfList

if TYPE_CHECKING:
    from aegis_scoring_rules.engine import RulesScores


def country_iso2(code: int) -> str:
    """Inverse of :func:`aegis.model.country_code`."""
    return chr(65 + code // 26) + chr(65 + code % 26)


def _limit(value: float | None, money: bool) -> str:
    if value is None:
        return "none"
    return f"{value:,.2f}" if money else f"{value:,}"


@dataclass(frozen=True)
class Phrases:
    """The parts of a rule set's explanations that do not depend on the payment."""

    window_suffix: tuple[str, ...]  # per velocity window: `` in 1h (limit 10 / 50,000.00)``
    debtor_geo: dict[int, str]  # per packed country code with a GEO score > 0
    creditor_geo: dict[int, str]

    @classmethod
    def build(cls, config: RulesConfig, fatf: FatfList, geo_table: np.ndarray) -> Phrases:
        listed = fatf.as_of.isoformat()
        status = {code: fatf.entries[country_iso2(code)].status for code in np.flatnonzero(geo_table > 0).tolist()}
        debtor_geo, creditor_geo = ({code: f"{side} country {country_iso2(code)}: FATF {s} ({listed})"
                                     for code, s in status.items()} for side in ("debtor", "creditor"))
        return cls(window_suffix=tuple(f" in {w.window} (limit {_limit(w.max_count, False)} / "
                                       f"{_limit(w.max_sum, True)})" for w in config.velocity.windows),
                   debtor_geo=debtor_geo, creditor_geo=creditor_geo)


def _explained(scores: np.ndarray) -> tuple[list[str | None], np.ndarray]:
    """An explanation slot per score (``None`` each) and the indices of the non-zero scores."""
    return [None] * len(scores), scores.nonzero()[0]


def velocity_details(scores: RulesScores) -> list[str | None]:
    """``12 payments / 54,000.00 in 1h (limit 10 / 50,000.00)`` for each non-zero VELOCITY score."""
    out, hit = _explained(scores.velocity)
    if hit.size:
        saturated, suffix = scores.rules.config.velocity.ring_size + 1, scores.rules.phrases.window_suffix
        for i, window, count, total in zip(hit.tolist(), scores.velocity_window[hit].tolist(),
                                           scores.velocity_count[hit].tolist(), scores.velocity_sum[hit].tolist(),
                                           strict=True):
            out[i] = f"{'at least ' if count >= saturated else ''}{count} payments / {total:,.2f}{suffix[window]}"
    return out


def amount_details(scores: RulesScores, amount: np.ndarray) -> list[str | None]:
    """Why each non-zero AMOUNT score: the z-score against the account's history, or the large-amount limit."""
    out, hit = _explained(scores.amount)
    if hit.size:
        large, z_full = scores.rules.config.amount.large_amount, scores.rules.config.amount.z_full
        for i, x, z, typical, seen in zip(hit.tolist(), amount[hit].tolist(), scores.amount_z[hit].tolist(),
                                          scores.amount_typical[hit].tolist(), scores.amount_history[hit].tolist(),
                                          strict=True):
            if large is not None and x >= large and not (math.isfinite(z) and z >= z_full):
                out[i] = f"amount {x:,.2f} at or above large_amount {large:,.2f}"
            else:
                out[i] = (f"amount {x:,.2f} is {z:.1f} sd above this account's typical "
                          f"{typical:,.2f} (log scale, {seen} earlier payments)")
    return out


def geo_details(scores: RulesScores, debtor_country: np.ndarray, creditor_country: np.ndarray) -> list[str | None]:
    """``creditor country IR: FATF call_for_action_countermeasures (2026-02-13)`` for each listed party."""
    out, hit = _explained(scores.geo)
    if hit.size:
        debtor_geo, creditor_geo = scores.rules.phrases.debtor_geo, scores.rules.phrases.creditor_geo
        for i, d, c in zip(hit.tolist(), debtor_country[hit].tolist(), creditor_country[hit].tolist(), strict=True):
            debtor, creditor = debtor_geo.get(d), creditor_geo.get(c)
            # A non-zero GEO score means at least one party is listed with a score.
            out[i] = f"{debtor}; {creditor}" if debtor and creditor else debtor or creditor
    return out
