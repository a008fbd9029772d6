"""The vault plugin's configuration: VAULT_* defaults, secret path forms, transport checks (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aegis_secrets_vault import VaultSecrets
from aegis_secrets_vault.config import KvLocation, VaultConfig, split_secret_path
from pydantic import ValidationError

from aegis.errors import SecurityViolation
from aegis.testing import PluginHarness

VAULT_VARIABLES = ("VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_SECRET_PATH", "VAULT_CACERT", "VAULT_TOKEN")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for variable in VAULT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("secret_path, kv_mount, expected", [
    ("secret/data/aegis/keys", None, KvLocation("secret", "aegis/keys")),
    ("secret/aegis/keys", None, KvLocation("secret", "aegis/keys")),
    ("/secret/data/aegis/keys/", None, KvLocation("secret", "aegis/keys")),
    ("kv/data/x", None, KvLocation("kv", "x")),
    ("kv/payments/data/aegis", "kv/payments", KvLocation("kv/payments", "aegis")),
    ("kv/payments/aegis", "kv/payments/", KvLocation("kv/payments", "aegis")),
])
def test_both_secret_path_forms_split_into_mount_and_path(secret_path, kv_mount, expected):
    location = split_secret_path(secret_path, kv_mount)
    assert location == expected
    assert location.api_path == f"{expected.mount}/data/{expected.path}"


@pytest.mark.parametrize("secret_path, kv_mount, message", [
    ("secret", None, "no secret in it"),
    ("secret/data", None, "no secret in it"),
    ("secret/metadata/aegis", None, "metadata path"),
    ("secret/../sys/x", None, "'..' segment"),
    ("secret//x", None, "empty"),
    ("", None, "not set: secret_path (or VAULT_SECRET_PATH)"),
    ("other/data/x", "kv/payments", "not inside kv_mount"),
])
def test_bad_secret_paths_are_refused_at_validation(secret_path, kv_mount, message, tmp_path):
    with pytest.raises(ValidationError) as excinfo:
        VaultConfig(address="https://vault.internal:8200", token_file=tmp_path / "t", secret_path=secret_path,
                    kv_mount=kv_mount)
    assert message in str(excinfo.value)


def test_defaults_come_from_the_environment_at_validation_time(monkeypatch, tmp_path):
    monkeypatch.setenv("VAULT_ADDR", "https://vault.internal:8200/")
    monkeypatch.setenv("VAULT_TOKEN_FILE", "/run/secrets/vault_token")
    monkeypatch.setenv("VAULT_SECRET_PATH", "secret/data/aegis/keys")
    monkeypatch.setenv("VAULT_CACERT", str(tmp_path / "ca.pem"))
    config = VaultConfig.model_validate({})
    assert config.address == "https://vault.internal:8200"
    assert config.token_file == Path("/run/secrets/vault_token")
    assert config.kv == KvLocation("secret", "aegis/keys")
    assert config.verify_tls == tmp_path / "ca.pem"
    assert (config.transit_mount, config.renew_before, config.timeout) == ("transit", 0.5, 5.0)

    monkeypatch.setenv("VAULT_SECRET_PATH", "secret/other")
    assert VaultConfig.model_validate({}).kv.path == "other"  # read again at each validation
    explicit = VaultConfig.model_validate({"secret_path": "kv/data/mine", "verify_tls": True})
    assert explicit.kv == KvLocation("kv", "mine") and explicit.verify_tls is True


def test_missing_settings_name_their_environment_variables():
    with pytest.raises(ValidationError) as excinfo:
        VaultConfig.model_validate({})
    message = str(excinfo.value)
    for expected in ("address (or VAULT_ADDR)", "token_file (or VAULT_TOKEN_FILE)",
                     "secret_path (or VAULT_SECRET_PATH)"):
        assert expected in message


@pytest.mark.parametrize("address", ["vault.internal:8200", "ftp://vault", "https://", ""])
def test_address_must_be_an_http_url(address, tmp_path):
    with pytest.raises(ValidationError, match="address"):
        VaultConfig(address=address, token_file=tmp_path / "t", secret_path="secret/x")


@pytest.mark.parametrize("field, value", [("renew_before", 0), ("renew_before", 1), ("timeout", 0),
                                          ("transit_mount", "../sys"), ("transit_mount", "a b"),
                                          ("kv_mount", "kv/../x"), ("self_test_key", "a/b")])
def test_out_of_range_settings_are_refused(field, value, tmp_path):
    with pytest.raises(ValidationError, match=field):
        VaultConfig(address="https://v:8200", token_file=tmp_path / "t", secret_path="secret/x", **{field: value})


@pytest.mark.parametrize("address, verify_tls, problems", [
    ("https://vault.internal:8200", True, []),
    ("http://127.0.0.1:8200", True, []),
    ("http://localhost:8200", True, []),
    ("http://vault.internal:8200", True, ["plain HTTP"]),
    ("https://vault.internal:8200", False, ["verify_tls is false"]),
    ("http://10.0.0.5:8200", False, ["plain HTTP", "verify_tls is false"]),
])
def test_transport_problems(address, verify_tls, problems, tmp_path):
    config = VaultConfig(address=address, token_file=tmp_path / "t", secret_path="secret/x", verify_tls=verify_tls)
    found = config.transport_problems()
    assert len(found) == len(problems)
    assert all(expected in problem for expected, problem in zip(problems, found, strict=True))


@pytest.mark.parametrize("changes", [{"address": "http://vault.internal:8200"}, {"verify_tls": False}])
def test_strict_mode_refuses_an_unprotected_token_before_reading_it(tmp_path, changes):
    config = {"address": "https://vault.internal:8200", "token_file": str(tmp_path / "absent"),
              "secret_path": "secret/data/aegis", **changes}
    with pytest.raises(SecurityViolation) as excinfo, \
            PluginHarness("secrets", "vault", config, tmp_path, security_mode="strict"):
        pass
    assert str(excinfo.value).startswith("FATAL: Security Violation")
    assert "AEGIS_SECURITY_MODE=permissive" in str(excinfo.value)


def test_capabilities():
    assert VaultSecrets.capabilities == {"non_extractable_keys": True, "signing": True}
    assert VaultSecrets.Config is VaultConfig
