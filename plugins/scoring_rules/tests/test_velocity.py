"""VELOCITY: counts and sums per debtor account in sliding windows, with bounded state."""

from __future__ import annotations

import numpy as np
import pytest
from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.engine import RulesEngine

MINUTE = 60
HOUR = 3600
COUNT_1H = {"windows": [{"window": "1h", "max_count": 10}], "ramp_from": 0.7}


def test_fires_after_n_payments_in_a_window(start_rules, payments):
    h = start_rules(velocity=COUNT_1H)
    result = h.score(h.batch(payments(1, [k * MINUTE for k in range(12)])))
    velocity = result.factors["VELOCITY"]
    assert velocity.reason_code == "RC_VELOCITY_EXCEEDED"
    # Ramp from 0 at 7 payments (0.7 of the limit) to 1 at 10, this payment included.
    expected = [0.0] * 7 + [1 / 3, 2 / 3, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(velocity.scores, expected)
    assert velocity.details[9] == "10 payments / 1,000.00 in 1h (limit 10 / none)"
    assert velocity.details[:7] == [None] * 7


def test_spread_out_series_does_not_fire(start_rules, payments):
    h = start_rules()  # default windows: 1h (10 / 50,000) and 24h (40 / 200,000)
    result = h.score(h.batch(payments(1, [k * 2 * HOUR for k in range(30)], 1_000.0)))
    assert not result.factors["VELOCITY"].scores.any()
    assert result.factors["VELOCITY"].details == [None] * 30


def test_sum_limit(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "15m", "max_sum": 1000}], "ramp_from": 0.5})
    result = h.score(h.batch(payments(1, [0, MINUTE, 2 * MINUTE], [400.0, 400.0, 400.0])))
    np.testing.assert_allclose(result.factors["VELOCITY"].scores, [0.0, 0.6, 1.0])
    assert result.factors["VELOCITY"].details[2] == "3 payments / 1,200.00 in 15m (limit none / 1,000.00)"


def test_window_slides(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "1h", "max_count": 3}], "ramp_from": 0.5})
    # Three payments within the hour; 61 minutes after the first it has left the window,
    # so the fourth payment counts three again; three hours on, only itself.
    result = h.score(h.batch(payments(1, [0, 10 * MINUTE, 20 * MINUTE, 61 * MINUTE, 3 * HOUR])))
    np.testing.assert_allclose(result.factors["VELOCITY"].scores, [0.0, 1 / 3, 1.0, 1.0, 0.0])


def test_window_excludes_a_payment_exactly_one_window_old(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "1h", "max_count": 2}, {"window": "24h", "max_count": 50}],
                              "ramp_from": 0.5})
    result = h.score(h.batch(payments(1, [0, HOUR]) + payments(2, [0, HOUR - 1])))
    np.testing.assert_allclose(result.factors["VELOCITY"].scores, [0.0, 0.0, 0.0, 1.0])


def test_highest_window_wins(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "1m", "max_count": 2}, {"window": "1h", "max_count": 4}],
                              "ramp_from": 0.5})
    result = h.score(h.batch(payments(1, [0, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE])))
    velocity = result.factors["VELOCITY"]
    np.testing.assert_allclose(velocity.scores, [0.0, 0.0, 0.5, 1.0])
    assert velocity.details[3].endswith("in 1h (limit 4 / none)")


def test_accounts_are_separate(start_rules, payments):
    h = start_rules(velocity=COUNT_1H)
    txs = [tx for pair in zip(payments(1, range(0, 600, 60)), payments(2, range(1, 601, 60)), strict=True)
           for tx in pair]
    result = h.score(h.batch(txs))  # 20 payments in 10 minutes, 10 from each account
    scores = result.factors["VELOCITY"].scores
    np.testing.assert_allclose(scores[-2:], [1.0, 1.0])
    np.testing.assert_allclose(scores[:14], 0.0)  # each account is at 7 of 10 by then


def test_later_batches_see_earlier_ones(start_rules, payments):
    whole = start_rules(velocity=COUNT_1H)
    txs = payments(1, [k * MINUTE for k in range(12)])
    expected = whole.score(whole.batch(txs)).factors["VELOCITY"].scores
    split = start_rules(velocity=COUNT_1H)
    first = split.score(split.batch(txs[:5])).factors["VELOCITY"].scores
    second = split.score(split.batch(txs[5:])).factors["VELOCITY"].scores
    np.testing.assert_allclose(np.concatenate([first, second]), expected)


def test_back_dated_payment_counts_at_the_latest_time(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "1h", "max_count": 3}], "ramp_from": 0.5})
    # The third payment claims to be five hours older than the others: it still counts.
    result = h.score(h.batch(payments(1, [5 * HOUR, 5 * HOUR + 10 * MINUTE, 0, 5 * HOUR + 30 * MINUTE,
                                          8 * HOUR])))
    np.testing.assert_allclose(result.factors["VELOCITY"].scores, [0.0, 1 / 3, 1.0, 1.0, 0.0])


def test_counts_saturate_at_ring_size(start_rules, payments):
    h = start_rules(velocity={"windows": [{"window": "1h", "max_count": 5}], "ring_size": 4, "ramp_from": 0.5})
    engine = h.plugin.engine
    h.score(h.batch(payments(1, range(10))))
    size = engine.state.nbytes
    result = h.score(h.batch(payments(1, range(10, 60))))
    assert engine.state.nbytes == size  # 50 more payments of the same account take no more memory
    assert engine.state.ring.shape[1] == 4
    assert result.factors["VELOCITY"].details[-1] == "at least 5 payments / 500.00 in 1h (limit 5 / none)"


def test_ring_too_small_for_the_limit_is_refused(fatf_csv):
    with pytest.raises(ValueError, match=r"ring_size \(4\) is too small for max_count 10"):
        RulesConfig.model_validate({"velocity": {"windows": [{"window": "1h", "max_count": 10}], "ring_size": 4},
                                    "geo": {"fatf_list": str(fatf_csv)}})


def test_state_grows_geometrically_and_keeps_history(fatf_csv):
    config = RulesConfig.model_validate({"velocity": {"windows": [{"window": "1h", "max_count": 3}],
                                                      "ramp_from": 0.5},
                                         "geo": {"fatf_list": str(fatf_csv)}})
    engine = RulesEngine(config)
    none = np.full(2, -1, dtype=np.int16)
    engine.score_arrays(np.array([3, 3]), np.array([1.0, 1.0]), np.array([0, 1]), none, none)
    assert engine.state.capacity == 1024
    engine.score_arrays(np.array([1500]), np.array([1.0]), np.array([2]), none[:1], none[:1])
    assert engine.state.capacity == 2048  # doubled, not grown to fit
    engine.score_arrays(np.array([9000]), np.array([1.0]), np.array([3]), none[:1], none[:1])
    assert engine.state.capacity == 9001  # a jump past double grows to fit
    third = engine.score_arrays(np.array([3]), np.array([1.0]), np.array([4]), none[:1], none[:1])
    assert third.velocity_count[0] == 3 and third.velocity[0] == 1.0  # account 3's payments survived


def test_bad_columns_are_refused(fatf_csv):
    engine = RulesEngine(RulesConfig.model_validate({"geo": {"fatf_list": str(fatf_csv)}}))
    none = np.full(2, -1, dtype=np.int16)
    with pytest.raises(ValueError, match="columns differ in length"):
        engine.score_arrays(np.array([1, 2]), np.array([1.0]), np.array([0, 1]), none, none)
    accounts, ring = engine.state.accounts.copy(), engine.state.ring.copy()
    with pytest.raises(ValueError, match="must be >= 0, got -2"):
        engine.score_arrays(np.array([1, -2]), np.array([1.0, 1.0]), np.array([0, 1]), none, none)
    # Refused whole: account 1's payment, before the bad id, was not folded into the state.
    np.testing.assert_array_equal(engine.state.accounts, accounts)
    np.testing.assert_array_equal(engine.state.ring, ring)
