"""The numba feature and score kernels against the plain-Python reference, and what the features mean."""

from __future__ import annotations

import numpy as np
import pytest
from aegis_scoring_model.catalogue import BASE_FEATURES, BASE_INDEX
from aegis_scoring_model.config import default_weights_path
from aegis_scoring_model.engine import ModelEngine
from aegis_scoring_model.reference import ReferenceModel
from aegis_scoring_model.state import AccountState
from aegis_scoring_model.weights import read_weights

HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def model():
    return read_weights(default_weights_path())


@pytest.mark.parametrize(("seed", "ring_size"), [(1, 4), (2, 16), (3, 2)])
def test_kernels_match_the_reference(model, random_stream, seed, ring_size):
    engine = ModelEngine(model, ring_size)
    oracle = ReferenceModel(model, ring_size)
    columns = random_stream(600, seed)
    for part in (slice(0, 250), slice(250, 251), slice(251, 600)):  # state carries across batches
        chunk = tuple(c[part] for c in columns)
        got = engine.score_arrays(*chunk)
        want = oracle.score_arrays(*chunk)
        expected = np.array([[f[name] for name in BASE_FEATURES] for f in want.features])
        np.testing.assert_allclose(got.features, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.probability, want.probability, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got.contributions, want.contributions, rtol=1e-9, atol=1e-15)


def _rows(model, *payments, ring_size=16):
    """Feature rows for (debtor, creditor, amount, hour, balance, channel) tuples scored in one batch."""
    debtor, creditor, amount, hours, balance, channels = zip(*payments, strict=True)
    times = (np.array(hours) * HOUR).astype(np.int64)
    scores = ModelEngine(model, ring_size).score_arrays(np.array(debtor), np.array(creditor), np.array(amount), times,
                                                        np.array(balance, dtype=float), list(channels))
    return scores.features


def col(rows, name):
    return rows[:, BASE_INDEX[name]]


def test_draining_a_balance_into_a_new_account_then_cashing_out(model):
    nan = np.nan
    rows = _rows(model,
                 (1, 90, 400.0, 1, nan, "CASH_IN"),  # the victim deposits (money flows to the debtor)
                 (1, 91, 600.0, 2, nan, "CASH_IN"),
                 (1, 7, 1_000.0, 3, 1_000.0, "TRANSFER"),  # empties its balance into new account 7
                 (7, 92, 1_000.0, 3, 1_000.0, "CASH_OUT"))  # 7 passes it straight on
    assert col(rows, "balance_emptied")[2] == 1 and col(rows, "balance_share")[2] == 1
    assert col(rows, "observed_share")[2] == pytest.approx(1.0) and col(rows, "observed_emptied")[2] == 1
    assert col(rows, "creditor_new")[2] == 1 and col(rows, "debtor_new")[3] == 0
    assert col(rows, "pass_through")[3] == 1 and col(rows, "drained")[3] == 1
    assert col(rows, "debtor_history")[3] == 0 and col(rows, "inflow_recency")[3] == 1


def test_without_balance_the_observed_flows_stand_in(model):
    nan = np.nan
    rows = _rows(model, (1, 90, 500.0, 1, nan, "CASH_IN"), (1, 7, 500.0, 2, nan, "TRANSFER"))
    assert col(rows, "has_balance")[1] == 0 and col(rows, "balance_emptied")[1] == 0
    assert col(rows, "drained")[1] == 1 and col(rows, "drain_share")[1] == 1


def test_counterparties_repeats_and_degrees(model):
    nan = np.nan
    rows = _rows(model,
                 (1, 2, 100.0, 0, nan, None), (1, 3, 100.0, 0.25, nan, None), (1, 2, 100.0, 0.5, nan, None),
                 (1, 2, 37.5, 0.75, nan, None), (4, 2, 100.0, 1.0, nan, None), (2, 1, 10.0, 1.25, nan, None))
    np.testing.assert_array_equal(col(rows, "first_to_creditor"), [1, 1, 0, 0, 1, 1])
    np.testing.assert_allclose(col(rows, "repeat_to_creditor_24h"), np.log1p([0, 0, 1, 2, 0, 0]))
    np.testing.assert_allclose(col(rows, "fan_out_30d"), np.log1p([1, 2, 2, 2, 1, 1]))
    np.testing.assert_allclose(col(rows, "fan_in_30d")[4], np.log1p(2))  # 2 was paid by 1, now by 4
    np.testing.assert_array_equal(col(rows, "new_amount"), [0, 0, 0, 1, 0, 0])
    assert col(rows, "reciprocal")[5] == 1  # 2 pays back 1, who paid it before
    np.testing.assert_allclose(col(rows, "velocity_count_1h"), np.log1p([1, 2, 3, 4, 1, 1]))


def test_amount_flags(model):
    nan = np.nan
    rows = _rows(model, (1, 2, 5_000.0, 0, nan, None), (1, 2, 9_450.0, 0, nan, None), (1, 2, 250.0, 0, nan, None),
                 (1, 2, 10_000.0, 0, nan, None))
    np.testing.assert_array_equal(col(rows, "round_amount"), [1, 0, 0, 1])
    np.testing.assert_array_equal(col(rows, "under_threshold"), [0, 1, 0, 0])


def test_state_is_bounded_per_account():
    state = AccountState(ring_size=16)
    assert AccountState.bytes_per_account(16) == 96 + 48 * 16
    state.ensure(5_000)
    assert state.capacity >= 5_001
    assert state.nbytes == state.capacity * AccountState.bytes_per_account(16)


def test_columns_of_different_length_are_refused(model):
    engine = ModelEngine(model)
    with pytest.raises(ValueError, match="columns differ in length"):
        engine.score_arrays(np.array([0, 1]), np.array([1]), np.array([1.0, 2.0]), np.array([0, 1]),
                            np.array([np.nan, np.nan]), [None, None])
