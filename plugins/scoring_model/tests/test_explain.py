"""Explanations: exact per-feature log-odds, group contributions that sum to the score, and the kernel's risk."""

from __future__ import annotations

import numpy as np
import pytest
from aegis_scoring_model.catalogue import GROUPS
from aegis_scoring_model.config import default_weights_path
from aegis_scoring_model.engine import ModelEngine
from aegis_scoring_model.evaluation import model_decision
from aegis_scoring_model.explain import feature_contributions, probability_contributions
from aegis_scoring_model.weights import read_weights

from aegis.decide import DecisionConfig, decide


@pytest.fixture
def scored(random_stream):
    model = read_weights(default_weights_path())
    return ModelEngine(model).score_arrays(*random_stream(2_000, seed=8))


def test_group_contributions_are_non_negative_and_sum_to_the_score(scored):
    assert np.all(scored.contributions >= 0)
    np.testing.assert_allclose(scored.contributions.sum(axis=1), scored.score, rtol=1e-12, atol=1e-15)
    assert scored.score.max() > 0.05  # some payments carry real weight, so the test has teeth


def test_feature_log_odds_add_up_to_the_logit_exactly(scored):
    model = scored.model
    phi = feature_contributions(model, scored.features, scored.channel)
    assert np.all(phi >= 0)
    p = scored.probability
    inner = (p > 1e-12) & (p < 1 - 1e-12)
    logit = np.log(p[inner] / (1 - p[inner]))
    np.testing.assert_allclose(model.logit_ref + phi[inner].sum(axis=1), logit, rtol=1e-9, atol=1e-9)


def test_feature_shares_group_into_the_kernels_factors(scored):
    model = scored.model
    shares = probability_contributions(model, scored.features, scored.channel)
    for g in range(len(GROUPS)):
        np.testing.assert_allclose(shares[:, model.group == g].sum(axis=1), scored.contributions[:, g],
                                   rtol=1e-9, atol=1e-15)


def test_kernel_risk_is_the_model_score_when_its_factors_weigh_one(start_model, payment):
    h = start_model()
    amount = 250_000.0
    txs = [payment(1, 90, amount, 0, channel="CASH_IN"), payment(1, 7, amount, 30, balance=amount, channel="TRANSFER"),
           payment(7, 91, amount, 40, balance=amount, channel="CASH_OUT"), payment(3, 4, 25.0, 50, channel="PAYMENT")]
    batch = h.batch(txs)
    result = h.score(batch)
    assert set(result.factors) == {f"MODEL_{g}" for g in GROUPS}
    assert {fs.reason_code for fs in result.factors.values()} == {f"RC_MODEL_{g}" for g in GROUPS}
    decisions = decide(batch, [("model", result)], model_decision())
    total = sum(np.asarray(fs.scores) for fs in result.factors.values())
    np.testing.assert_allclose(decisions.risk, np.minimum(total, 1.0), rtol=1e-12)
    assert decisions.risk[1] > 0.5 and decisions.risk[2] > 0.5 and decisions.risk[3] < 0.01
    for i in range(batch.n):
        record = decisions.record(i)
        assert sum(record["risk_factors"].values()) == pytest.approx(record["risk_score"], abs=1e-5)
        assert record["model_version_hash"] == result.versions["model_version_hash"]
    transfer = decisions.record(1)
    assert transfer["decision"] in ("INVESTIGATE", "BLOCK")
    top = max(transfer["risk_factors"], key=transfer["risk_factors"].get)
    assert transfer["reason_code"] == "RC_" + top
    assert f"of p={result_probability(decisions.risk[1], result):.3f}" in transfer["explanation"][top]
    # Under the kernel's default weights (0.5 for unlisted factors) the same factors count half.
    halved = decide(batch, [("model", result)], DecisionConfig())
    np.testing.assert_allclose(halved.risk, 0.5 * np.minimum(total, 2.0), rtol=1e-12)


def result_probability(risk: float, result) -> float:
    """The probability a record's explanation quotes: the score plus the reference payment's probability."""
    return risk + read_weights(default_weights_path()).p_ref


def test_details_name_the_largest_features_first(start_model, payment):
    h = start_model(details_features=2)
    batch = h.batch([payment(1, 90, 250_000.0, 0, channel="CASH_IN"),
                     payment(1, 7, 250_000.0, 30, balance=250_000.0, channel="TRANSFER")])
    result = h.score(batch)
    texts = {name: fs.details[1] for name, fs in result.factors.items() if fs.details and fs.details[1]}
    assert texts, "the draining transfer is explained"
    for name, text in texts.items():
        share, rest = text.split(" of p=")
        assert float(share) == pytest.approx(result.factors[name].scores[1], abs=5e-4)
        terms = [float(part.rsplit("(+", 1)[1].rstrip(")")) for part in rest.split(": ", 1)[1].split(", ")]
        assert 1 <= len(terms) <= 2 and terms == sorted(terms, reverse=True)
    assert all(fs.details[0] is None for fs in result.factors.values())  # nothing to explain for a deposit
    quiet = start_model(details=False).score(batch)
    assert all(fs.details is None for fs in quiet.factors.values())
