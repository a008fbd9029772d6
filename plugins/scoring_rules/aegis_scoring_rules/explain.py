"""Short explanations of non-zero scores for decision records (built only where a score is > 0)."""

from __future__ import annotations

import math

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.engine import RulesScores


def country_iso2(code: int) -> str:
    """Inverse of :func:`aegis.model.country_code`."""
    return chr(65 + code // 26) + chr(65 + code % 26)


def _limit(value: float | None, money: bool) -> str:
    if value is None:
        return "none"
    return f"{value:,.2f}" if money else f"{value:,}"


def velocity_details(scores: RulesScores, config: RulesConfig) -> list[str | None]:
    """``12 payments / 54,000.00 in 1h (limit 10 / 50,000.00)`` for each non-zero VELOCITY score."""
    out: list[str | None] = [None] * len(scores.velocity)
    saturated = config.velocity.ring_size + 1
    # What a window's explanations share is formatted once per batch, not per payment.
    suffix = [f" in {w.window} (limit {_limit(w.max_count, False)} / {_limit(w.max_sum, True)})"
              for w in config.velocity.windows]
    hit = np.flatnonzero(scores.velocity)
    for i, window, count, total in zip(hit.tolist(), scores.velocity_window[hit].tolist(),
                                       scores.velocity_count[hit].tolist(), scores.velocity_sum[hit].tolist(),
                                       strict=True):
        out[i] = f"{'at least ' if count >= saturated else ''}{int(count)} payments / {total:,.2f}{suffix[window]}"
    return out


def amount_details(scores: RulesScores, amount: np.ndarray, config: RulesConfig) -> list[str | None]:
    """Why each non-zero AMOUNT score: the z-score against the account's history, or the large-amount limit."""
    out: list[str | None] = [None] * len(scores.amount)
    large = config.amount.large_amount
    for i in np.flatnonzero(scores.amount).tolist():
        z = float(scores.amount_z[i])
        if large is not None and amount[i] >= large and not (math.isfinite(z) and z >= config.amount.z_full):
            out[i] = f"amount {amount[i]:,.2f} at or above large_amount {large:,.2f}"
        else:
            out[i] = (f"amount {amount[i]:,.2f} is {z:.1f} sd above this account's typical "
                      f"{scores.amount_typical[i]:,.2f} (log scale, {int(scores.amount_history[i])} earlier payments)")
    return out


def geo_details(scores: RulesScores, debtor_country: np.ndarray, creditor_country: np.ndarray) -> list[str | None]:
    """``creditor country IR: FATF call_for_action_countermeasures (2026-02-13)`` for each listed party."""
    out: list[str | None] = [None] * len(scores.geo)
    fatf = scores.rules.fatf
    table = scores.rules.geo_table
    listed = fatf.as_of.isoformat()
    texts: dict[tuple[str, int], str] = {}  # few distinct countries per batch: format each once
    for i in np.flatnonzero(scores.geo).tolist():
        parts = []
        for side, code in (("debtor", int(debtor_country[i])), ("creditor", int(creditor_country[i]))):
            if 0 <= code < len(table) and table[code] > 0:
                text = texts.get((side, code))
                if text is None:
                    iso2 = country_iso2(code)
                    text = texts[side, code] = f"{side} country {iso2}: FATF {fatf.entries[iso2].status} ({listed})"
                parts.append(text)
        out[i] = "; ".join(parts)
    return out
