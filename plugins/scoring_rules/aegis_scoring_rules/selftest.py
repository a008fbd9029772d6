"""``aegis self-test`` checks: the active FATF list, and every kernel on a synthetic batch.

The synthetic batch is scored by a fresh engine sharing only the active rule set, so production
per-account state is never touched.
"""

from __future__ import annotations

import math

import numpy as np

from aegis.lifecycle import SelfTestResult
from aegis.model import country_code
from aegis_scoring_rules.engine import RulesEngine

PLUGIN = "rules"
_SECOND = 1_000_000_000


def _synthetic(engine: RulesEngine) -> list[tuple[str, bool, str]]:
    """Score a burst (account 0), an outlier after steady history (account 1) and a listed country."""
    cfg = engine.effective
    window = cfg.velocity.windows[0]
    burst = window.max_count if window.max_count is not None else 1
    burst_amount = 1.0 if window.max_count is not None else float(window.max_sum or 1.0)
    steady = cfg.amount.min_history
    outlier = 100.0 * math.exp((cfg.amount.z_full + 1.0) * cfg.amount.min_std)
    entries = engine.rules.fatf.entries
    listed = max(entries.values(), key=lambda e: cfg.geo.status_scores[e.status])
    expected_geo = cfg.geo.status_scores[listed.status]

    accounts = [0] * burst + [1] * (steady + 1)
    amounts = [burst_amount] * burst + [100.0] * steady + [outlier]
    # Account 1 pays once a week, far outside any velocity window a deployment would use.
    times = [k * _SECOND for k in range(burst)] + [k * 7 * 86_400 * _SECOND for k in range(steady + 1)]
    creditor = [-1] * len(accounts)
    creditor[0] = country_code(listed.iso2)

    fresh = RulesEngine(cfg, rules=engine.rules)
    scores = fresh.score_arrays(np.array(accounts), np.array(amounts), np.array(times),
                                np.full(len(accounts), -1, dtype=np.int16), np.array(creditor, dtype=np.int16))
    n = len(accounts)
    shapes = all(a.shape == (n,) for a in (scores.velocity, scores.amount, scores.geo))
    in_range = all(bool(np.all((a >= 0) & (a <= 1))) for a in (scores.velocity, scores.amount, scores.geo))
    checks = [
        ("kernels return one score in [0, 1] per transaction", shapes and in_range,
         f"{n} synthetic transactions"),
        ("VELOCITY reaches 1 at the limit", scores.velocity[burst - 1] == 1.0,
         f"{burst} payments within {window.window}: score {scores.velocity[burst - 1]:.2f}"),
        ("AMOUNT reaches 1 for an outlier", scores.amount[-1] == 1.0,
         f"{outlier:,.2f} after {steady} payments of 100.00: score {scores.amount[-1]:.2f}"),
        ("GEO scores a listed country", scores.geo[0] == expected_geo and scores.geo[1] == 0.0,
         f"creditor {listed.iso2} ({listed.status}): score {scores.geo[0]:.2f}, expected {expected_geo:.2f}"),
    ]
    return checks


def self_test(engine: RulesEngine) -> list[SelfTestResult]:
    """One result for the FATF list and one per kernel check."""
    rules = engine.rules
    results = [SelfTestResult(plugin=PLUGIN, check="FATF list loaded", ok=bool(rules.fatf.entries),
                              detail=f"{rules.fatf.path}: {rules.fatf.summary()}; {rules.rules_version}")]
    results += [SelfTestResult(plugin=PLUGIN, check=name, ok=bool(ok), detail=detail)
                for name, ok, detail in _synthetic(engine)]
    return results
