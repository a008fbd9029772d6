"""The weights file: what it must hold, and the precise reasons a bad one is refused."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from aegis_scoring_model.catalogue import BASE_FEATURES, GROUPS
from aegis_scoring_model.config import default_weights_path
from aegis_scoring_model.weights import WeightsError, dump_weights, parse_weights, read_weights


@pytest.fixture
def spec() -> dict:
    return json.loads(default_weights_path().read_bytes())


def _refused(content: bytes, message: str) -> None:
    with pytest.raises(WeightsError) as info:
        parse_weights(content, "/etc/aegis/model_weights.json")
    assert "/etc/aegis/model_weights.json" in str(info.value)
    assert message in str(info.value)


def test_shipped_file_loads_with_its_hash_and_training_record():
    model = read_weights(default_weights_path())
    content = default_weights_path().read_bytes()
    assert model.version == "sha256:" + hashlib.sha256(content).hexdigest()
    training = model.spec.training
    assert training["command"].startswith("aegis model train --data ")
    assert training["format"] == "paysim" and training["split"]["train_fraction"] == 0.7
    assert {"as in the data", "balance removed"} <= set(training["metrics"])
    assert set(model.spec.feature_settings.channels) == {"CASH_IN", "CASH_OUT", "PAYMENT", "TRANSFER", "DEBIT"}


def test_reference_point_makes_every_contribution_non_negative(spec):
    model = parse_weights(json.dumps(spec).encode(), "w.json")
    assert np.all(model.coef * (model.lo - model.ref) >= 0) and np.all(model.coef * (model.hi - model.ref) >= 0)
    mean = np.array([f["mean"] for f in spec["features"]])
    assert model.logit_ref == pytest.approx(spec["intercept"] + float(np.sum(model.coef * (model.ref - mean))))


def test_dump_then_parse_round_trips(spec):
    model = parse_weights(json.dumps(spec).encode(), "w.json")
    again = parse_weights(dump_weights(model.spec), "w.json")
    assert again.spec == model.spec
    np.testing.assert_array_equal(again.coef, model.coef)


def test_invalid_json_is_refused():
    _refused(b'{"schema_version": 1, "features": [', "not valid JSON")


def test_other_schema_version_is_refused(spec):
    spec["schema_version"] = 2
    _refused(json.dumps(spec).encode(), "schema_version 2 is not supported (this plugin reads 1)")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(spec, literal):
    spec["features"][3]["weight"] = 12345.5
    text = json.dumps(spec).replace("12345.5", literal)
    with pytest.raises(WeightsError, match=r"not a finite number|NaN or infinite"):
        parse_weights(text.encode(), "w.json")


def test_unknown_feature_is_a_feature_mismatch(spec):
    spec["features"][0]["name"] = "shoe_size"
    _refused(json.dumps(spec).encode(), "feature mismatch: feature 'shoe_size': unknown feature 'shoe_size'")


def test_channel_outside_the_models_channels_is_refused(spec):
    spec["features"][0]["name"] = "drained*channel:WIRE"
    _refused(json.dumps(spec).encode(), "channel 'WIRE' is not in the model's channels")


def test_unknown_group_and_bad_numbers_are_named(spec):
    spec["features"][0]["group"] = "LUCK"
    spec["features"][1]["std"] = 0
    spec["features"][2]["clip"] = [1.0, 0.0]
    with pytest.raises(WeightsError) as info:
        parse_weights(json.dumps(spec).encode(), "w.json")
    text = str(info.value)
    assert "features.0.group" in text and "unknown group 'LUCK'" in text
    assert "features.1.std" in text and "features.2" in text and "clip low 1.0 is above clip high 0.0" in text


def test_repeated_feature_is_refused(spec):
    spec["features"].append(dict(spec["features"][0]))
    _refused(json.dumps(spec).encode(), "features listed more than once: ['log_amount']")


def test_catalogue_names_and_groups_are_consistent(spec):
    names = [f["name"] for f in spec["features"]]
    assert set(BASE_FEATURES) <= set(names)  # the recipe uses every base feature
    assert {f["group"] for f in spec["features"]} == set(GROUPS)
