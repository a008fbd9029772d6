"""The plugin as the kernel sees it: configuration, startup, self-test, factor names, the shipped model."""

from __future__ import annotations

import pytest
from aegis_scoring_model.catalogue import GROUPS
from aegis_scoring_model.config import ModelConfig, default_weights_path
from aegis_scoring_model.plugin import ModelPlugin
from aegis_scoring_model.weights import read_weights
from pydantic import ValidationError


def test_config_defaults_to_the_shipped_model_and_checks_its_keys():
    config = ModelConfig()
    assert config.weights_path() == default_weights_path() and default_weights_path().is_file()
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ModelConfig.model_validate({"weigths": "x.json"})
    with pytest.raises(ValidationError, match="should match pattern"):
        ModelConfig(factor_prefix="model-")
    with pytest.raises(ValidationError, match="Path does not point to a file"):
        ModelConfig.model_validate({"weights": "/nonexistent/model_weights.json"})


def test_scoring_before_startup_says_so(payment):
    with pytest.raises(RuntimeError, match="before aegis_startup"):
        ModelPlugin(ModelConfig()).engine  # noqa: B018


def test_factor_prefix_names_the_factors(start_model, payment):
    h = start_model(factor_prefix="ML_")
    result = h.score(h.batch([payment(1, 2, 10.0, 0)]))
    assert set(result.factors) == {f"ML_{g}" for g in GROUPS}
    plain = start_model(factor_prefix="")
    assert set(plain.score(plain.batch([payment(1, 2, 10.0, 0)])).factors) == set(GROUPS)


def test_self_test_passes_and_leaves_production_state_alone(start_model, payment):
    h = start_model()
    h.score(h.batch([payment(1, 2, 10.0, 0)]))
    state = h.plugin.engine.features.state
    before = state.accounts.copy()
    results = h.call("aegis_self_test")
    assert results and all(r.ok for r in results), results
    assert results[0].check == "weights file loaded" and "sha256:" in results[0].detail
    assert (state.accounts == before).all()


def test_shipped_model_meets_the_detection_targets_it_records():
    training = read_weights(default_weights_path()).spec.training
    with_balance = training["metrics"]["as in the data"]["payments"]
    without = training["metrics"]["balance removed"]["payments"]
    assert with_balance["pr_auc"] >= 0.98 and with_balance["recall_at_1pct"] >= 0.99
    assert without["pr_auc"] >= 0.85
    assert training["split"]["held_out_positives"] >= 40  # measured on enough held-out fraud to mean something
