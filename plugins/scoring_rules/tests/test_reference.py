"""The numba kernels agree with the plain-Python reference on random batches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.engine import RulesEngine
from aegis_scoring_rules.kernels import score_kernel
from aegis_scoring_rules.reference import ReferenceRules

from aegis.model import country_code
from aegis.testing import samples

SECOND = 1_000_000_000
LISTED = [country_code(c) for c in ("IR", "KP", "MM", "KE", "DZ", "BA", "VN")]

CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "small ring, many windows": {
        "velocity": {"windows": [{"window": "60s", "max_count": 3}, {"window": "15m", "max_sum": 2_000},
                                 {"window": "1h", "max_count": 8, "max_sum": 5_000}],
                     "ring_size": 8, "ramp_from": 0.3},
        "amount": {"min_history": 3, "z_start": 1.0, "z_full": 2.5, "min_std": 0.05, "large_amount": 3_000},
    },
    "old list, custom scores": {"geo": {"as_of": "2025-11-01",
                                        "status_scores": {"call_for_action_countermeasures": 0.9,
                                                          "call_for_action_enhanced_due_diligence": 0.7,
                                                          "increased_monitoring": 0.3}}},
}


def _random_batch(rng: np.random.Generator, n: int, start: int, accounts: int):
    account = rng.integers(0, accounts, n)
    amount = np.round(rng.lognormal(5, 1.3, n), 2)
    steps = rng.integers(0, 40 * SECOND, n)
    created = start + np.cumsum(steps)
    late = rng.random(n) < 0.05  # some payments arrive back-dated by up to two hours
    created[late] -= rng.integers(0, 7200 * SECOND, late.sum())
    def countries() -> np.ndarray:
        pick = rng.integers(-1, 676, n)
        listed = rng.random(n) < 0.2
        pick[listed] = rng.choice(LISTED, listed.sum())
        return pick.astype(np.int16)
    return account, amount, created, countries(), countries()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_numba_equals_reference(fatf_csv, name):
    config = RulesConfig.model_validate({**CONFIGS[name], "geo": {"fatf_list": str(fatf_csv),
                                                                  **CONFIGS[name].get("geo", {})}})
    engine = RulesEngine(config)
    reference = ReferenceRules(config, engine.rules.fatf)
    rng = np.random.default_rng(20260213)
    start = int(samples.EPOCH.timestamp()) * SECOND
    fired = {"velocity": 0, "amount": 0, "geo": 0}
    for size in (1, 17, 512, 4096, 0, 300):
        columns = _random_batch(rng, size, start, accounts=40)
        if size:
            start = int(columns[2].max())
        got = engine.score_arrays(*columns)
        want = reference.score_arrays(*columns)
        for factor in fired:
            np.testing.assert_allclose(getattr(got, factor), getattr(want, factor), rtol=1e-9, atol=1e-9,
                                       err_msg=f"{factor} differs ({name}, batch of {size})")
            fired[factor] += int((getattr(got, factor) > 0).sum())
    # The comparison means something only if every factor fired on the random data.
    assert all(count > 50 for count in fired.values()), fired


def test_batch_columns_match_reference(start_rules, fatf_csv):
    h = start_rules()
    batch = h.batch(samples.transactions(400, seed=3, accounts=6))
    result = h.score(batch)
    config = h.plugin.config
    want = ReferenceRules(config, h.plugin.engine.rules.fatf).score_arrays(
        batch.debtor_account, batch.amount, batch.created_at_ns, batch.debtor_country, batch.creditor_country)
    for factor, values in (("VELOCITY", want.velocity), ("AMOUNT", want.amount), ("GEO", want.geo)):
        np.testing.assert_allclose(result.factors[factor].scores, values, rtol=1e-9, atol=1e-9, err_msg=factor)


def test_kernels_compiled_once_for_batch_dtypes(start_rules, payments):
    h = start_rules()
    warmed = len(score_kernel.signatures)
    assert warmed >= 1
    h.score(h.batch(payments(1, [0, 1, 2])))
    assert len(score_kernel.signatures) == warmed
