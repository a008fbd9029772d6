"""``aegis self-test`` checks: the active weights file, and both kernels on a synthetic batch.

The synthetic batch is scored by a fresh engine sharing only the active model, so production
per-account state is never touched.
"""

from __future__ import annotations

import numpy as np

from aegis.lifecycle import SelfTestResult
from aegis_scoring_model.config import ModelConfig
from aegis_scoring_model.engine import ModelEngine

PLUGIN = "model"
_HOUR = 3_600_000_000_000


def _synthetic(engine: ModelEngine) -> tuple:
    """A routine payer (account 0 pays 5 merchants), then an account draining its balance to a new account."""
    debtor = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    creditor = np.array([10, 11, 12, 13, 14, 15, 2, 16])
    amount = np.array([50.0, 60.0, 55.0, 52.0, 58.0, 100.0, 9_500.0, 9_500.0])
    times = np.arange(8, dtype=np.int64) * _HOUR
    balance = np.array([1_000.0, 950.0, 890.0, 835.0, 783.0, 9_600.0, 9_500.0, 9_500.0])
    model = engine.model
    channels = [next(iter(model.channel_codes), None)] * 8
    return debtor, creditor, amount, times, balance, channels


def self_test(engine: ModelEngine, config: ModelConfig) -> list[SelfTestResult]:
    """One result for the weights file and one per kernel check."""
    model = engine.model
    results = [SelfTestResult(plugin=PLUGIN, check="weights file loaded", ok=True,
                              detail=f"{model.path}: {model.summary()}; {model.version}")]
    columns = _synthetic(engine)
    first = ModelEngine(model, config.ring_size).score_arrays(*columns)
    second = ModelEngine(model, config.ring_size).score_arrays(*columns)
    p = first.probability
    in_range = bool(np.all((p >= 0) & (p <= 1)) and np.all(first.contributions >= 0))
    gap = float(np.max(np.abs(first.contributions.sum(axis=1) - first.score)))
    results += [
        SelfTestResult(PLUGIN, "kernels return a probability in [0, 1] and non-negative contributions", in_range,
                       f"{len(p)} synthetic payments, probabilities {p.min():.2e} .. {p.max():.2e}"),
        SelfTestResult(PLUGIN, "factor contributions sum to the model's score", gap <= 1e-12,
                       f"largest gap {gap:.1e}"),
        SelfTestResult(PLUGIN, "fresh engines score identically", bool(np.array_equal(p, second.probability)),
                       "two engines on the same synthetic batch"),
    ]
    return results
