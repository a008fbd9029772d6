"""The plugin through the kernel's loading path: factors, details, versions, self-test."""

from __future__ import annotations

import numpy as np
import pytest
from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.plugin import RulesPlugin

from aegis.testing import samples


def test_score_result_shape(start_rules):
    h = start_rules()
    batch = h.batch(samples.transactions(300, accounts=4))
    result = h.score(batch)
    assert set(result.factors) == {"VELOCITY", "AMOUNT", "GEO"}
    assert {f.reason_code for f in result.factors.values()} == {"RC_VELOCITY_EXCEEDED", "RC_AMOUNT_ANOMALY",
                                                                 "RC_HIGH_RISK_GEO"}
    assert set(result.versions) == {"rules_version", "fatf_list_version"}
    for name, factor in result.factors.items():
        assert factor.scores.shape == (300,) and factor.scores.dtype == np.float64
        assert np.all((factor.scores >= 0) & (factor.scores <= 1)), name
        assert factor.scores.any(), f"{name} never fired on 300 payments of 4 accounts"
        explained = np.array([d is not None for d in factor.details])
        np.testing.assert_array_equal(explained, factor.scores > 0, err_msg=name)
        assert factor.hard_block is None


def test_details_can_be_switched_off(start_rules):
    h = start_rules(details=False)
    result = h.score(h.batch(samples.transactions(50, accounts=2)))
    assert all(f.details is None for f in result.factors.values())


def test_decision_records_carry_the_versions(start_rules):
    h = start_rules()
    batch = h.batch(samples.transactions(40, accounts=3))
    result = h.score(batch)
    record = h.decisions(batch, result).record(0)
    assert record["rules_version"] == result.versions["rules_version"]
    assert record["versions"]["fatf_list_version"] == "FATF-2026-06-19"


def test_empty_batch(start_rules):
    h = start_rules()
    batch = h.batch(samples.transactions(5))
    result = h.score(batch.take(np.array([], dtype=np.int64)))
    assert all(f.scores.shape == (0,) and f.details == [] for f in result.factors.values())


def test_scoring_before_startup_fails_closed(fatf_csv):
    plugin = RulesPlugin(RulesConfig.model_validate({"geo": {"fatf_list": str(fatf_csv)}}))
    with pytest.raises(RuntimeError, match="before aegis_startup"):
        plugin.engine  # noqa: B018
    assert plugin.aegis_reload() is None


def test_self_test_passes_without_touching_state(start_rules, payments):
    h = start_rules()
    h.score(h.batch(payments(1, [0, 60, 120])))
    state = h.plugin.engine.state
    accounts, ring = state.accounts.copy(), state.ring.copy()
    results = h.call("aegis_self_test")
    assert len(results) == 5
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert results[0].check == "FATF list loaded" and "FATF-2026-06-19" in results[0].detail
    np.testing.assert_array_equal(state.accounts, accounts)
    np.testing.assert_array_equal(state.ring, ring)

