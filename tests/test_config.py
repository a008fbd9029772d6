"""The deployment YAML: outline, plugin sections, env overrides, secret references."""

from __future__ import annotations

import pytest

from aegis.config import apply_env_overrides, expand_env, load_outline, parse_outline, secret_refs
from aegis.deployment import check
from aegis.errors import ConfigError

from .conftest import FATF, deployment


def test_unknown_top_level_key_fails_with_its_path():
    with pytest.raises(ConfigError) as excinfo:
        parse_outline({"secrets": {"plugin": "env"}, "ingress": [{"plugin": "file"}], "scoring": [{"plugin": "rules"}],
                       "audit": [{"plugin": "jsonl"}], "pipeline": {"batch_sise": 10}})
    assert "pipeline.batch_sise: Extra inputs are not permitted" in str(excinfo.value)


def test_all_outline_errors_reported_at_once():
    with pytest.raises(ConfigError) as excinfo:
        parse_outline({"ingress": [], "scoring": [{"plugin": "rules", "typo": 1}], "audit": [{"plugin": "jsonl"}],
                       "decision": {"investigate_at": 2}})
    errors = excinfo.value.errors
    assert any(e.startswith("secrets: Field required") for e in errors)
    assert any(e.startswith("ingress: List should have at least 1 item") for e in errors)
    assert any(e.startswith("scoring[0].typo: Extra inputs") for e in errors)
    assert any(e.startswith("decision.investigate_at: Input should be less than or equal to 1") for e in errors)


def test_plugin_section_errors_carry_family_position_and_name(tmp_path, write_config):
    data = deployment(tmp_path, tmp_path / "in.jsonl")
    data["scoring"] = [{"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}}},
                       {"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}, "velocity": {"windows": "soon"},
                                                      "no_such_key": 1}}]
    data["audit"][0]["config"]["fsync"] = "sometimes"
    with pytest.raises(ConfigError) as excinfo:
        check(write_config(data))
    errors = excinfo.value.errors
    assert any(e.startswith("scoring[1] (rules): no_such_key: Extra inputs are not permitted") for e in errors)
    assert any(e.startswith("scoring[1] (rules): velocity") for e in errors)
    assert any(e.startswith("audit[0] (jsonl): fsync:") for e in errors)
    assert not any(e.startswith("scoring[0]") for e in errors)


def test_environment_overrides_win_over_the_file():
    raw = {"security_mode": "permissive", "log_level": "INFO", "secrets": {"plugin": "env", "config": {"a": 1}}}
    env = {"AEGIS_SECURITY_MODE": "STRICT", "AEGIS_LOG_LEVEL": "debug", "AEGIS_SECRETS_MODE": "vault"}
    out = apply_env_overrides(raw, env)
    assert out["security_mode"] == "strict"
    assert out["log_level"] == "DEBUG"
    assert out["secrets"] == {"plugin": "vault", "config": {}}
    assert apply_env_overrides(raw, {"AEGIS_SECRETS_MODE": "env"})["secrets"] == raw["secrets"]


def test_invalid_security_mode_from_environment_is_reported():
    raw = {"secrets": {"plugin": "env"}, "ingress": [{"plugin": "file"}], "scoring": [{"plugin": "rules"}],
           "audit": [{"plugin": "jsonl"}]}
    with pytest.raises(ConfigError, match="security_mode: Input should be 'strict' or 'permissive'"):
        parse_outline(raw, environ={"AEGIS_SECURITY_MODE": "lax"})


def test_default_security_mode_is_strict():
    config = parse_outline({"secrets": {"plugin": "env"}, "ingress": [{"plugin": "file"}],
                            "scoring": [{"plugin": "rules"}], "audit": [{"plugin": "jsonl"}]}, environ={})
    assert config.security_mode == "strict"


def test_secret_references_are_found_and_never_inline():
    value = {"user": "svc", "password": {"$secret": "kafka_password"}, "nested": [{"token": {"$secret": "t"}}]}
    assert secret_refs(value) == ["kafka_password", "t"]
    assert secret_refs({"$secret": "x", "other": 1}) == []


def test_env_expansion_for_paths():
    assert expand_env({"p": "${DATA:-/srv}/x", "q": ["${HOME_X}"]}, {"HOME_X": "/h"}) == {"p": "/srv/x", "q": ["/h"]}
    with pytest.raises(ValueError, match="NOPE is not set"):
        expand_env("${NOPE}/x", {})


def test_unreadable_and_invalid_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_outline(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scoring: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_outline(bad)
