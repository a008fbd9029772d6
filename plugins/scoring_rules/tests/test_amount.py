"""AMOUNT: an amount unusual for the debtor account's own history, or absolutely large."""

from __future__ import annotations

import math

import numpy as np

DAY = 86_400
HISTORY = [100.0, 110.0, 95.0, 105.0, 90.0, 100.0, 120.0, 98.0]


def _days(n: int) -> list[int]:
    return [k * DAY for k in range(n)]


def test_outlier_after_history_fires(start_rules, payments):
    h = start_rules()
    result = h.score(h.batch(payments(1, _days(9), [*HISTORY, 5_000.0])))
    amount = result.factors["AMOUNT"]
    assert amount.reason_code == "RC_AMOUNT_ANOMALY"
    np.testing.assert_array_equal(amount.scores, [0.0] * 8 + [1.0])
    assert amount.details[8].startswith("amount 5,000.00 is ")
    assert amount.details[8].endswith("(log scale, 8 earlier payments)")


def test_score_follows_the_z_score(start_rules, payments):
    h = start_rules(amount={"z_start": 2.0, "z_full": 4.0, "min_std": 0.01})
    logs = np.log(HISTORY)
    z3 = float(np.exp(logs.mean() + 3.0 * logs.std(ddof=1)))  # z = 3: half way from 2 to 4
    result = h.score(h.batch(payments(1, _days(9), [*HISTORY, round(z3, 2)])))
    assert math.isclose(result.factors["AMOUNT"].scores[8], 0.5, abs_tol=1e-3)


def test_no_score_before_min_history(start_rules, payments):
    h = start_rules(amount={"min_history": 5})
    four = payments(1, _days(5), [100.0, 100.0, 100.0, 100.0, 50_000.0])
    five = payments(2, _days(6), [100.0, 100.0, 100.0, 100.0, 100.0, 50_000.0])
    scores = h.score(h.batch(four + five)).factors["AMOUNT"].scores
    assert scores[4] == 0.0  # four earlier payments: not scored
    assert scores[-1] == 1.0  # five: scored
    assert not scores[:4].any() and not scores[5:-1].any()


def test_only_larger_than_usual_scores(start_rules, payments):
    h = start_rules()
    result = h.score(h.batch(payments(1, _days(9), [*HISTORY, 1.0])))
    assert not result.factors["AMOUNT"].scores.any()


def test_history_is_per_account(start_rules, payments):
    h = start_rules()
    h.score(h.batch(payments(1, _days(8), HISTORY)))
    result = h.score(h.batch(payments(2, [9 * DAY], 5_000.0) + payments(1, [9 * DAY], 5_000.0)))
    np.testing.assert_array_equal(result.factors["AMOUNT"].scores, [0.0, 1.0])


def test_large_amount_scores_without_history(start_rules, payments):
    h = start_rules(amount={"large_amount": 1_000_000})
    result = h.score(h.batch(payments(1, [0, DAY], [999_999.99, 1_000_000.0])))
    amount = result.factors["AMOUNT"]
    np.testing.assert_array_equal(amount.scores, [0.0, 1.0])
    assert amount.details == [None, "amount 1,000,000.00 at or above large_amount 1,000,000.00"]
