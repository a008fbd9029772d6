"""HTTPS to a real OpenBao server (``-dev-tls``): the CA bundle setting, and what an unknown CA looks like."""

from __future__ import annotations

import pytest
from aegis_secrets_vault import VaultError, VaultUnavailable

from aegis.signing import verify
from aegis.testing import PluginHarness


@pytest.fixture
def setup(bao_tls, token_file, monkeypatch, tmp_path):
    for variable in ("VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_SECRET_PATH", "VAULT_CACERT", "VAULT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    bao_tls.write_secret("aegis/keys", {"api_key": "over-tls"})
    token = bao_tls.token(bao_tls.policy('path "secret/data/aegis/keys" { capabilities = ["read"] }\n'
                                         'path "transit/sign/audit" { capabilities = ["update"] }\n'
                                         'path "transit/keys/audit" { capabilities = ["read"] }'))
    config = {"address": bao_tls.address, "token_file": str(token_file(token)), "secret_path": "secret/aegis/keys"}
    return bao_tls, config, tmp_path


def test_https_with_the_ca_bundle_works_in_strict_mode(setup):
    bao, config, tmp_path = setup
    with PluginHarness("secrets", "vault", {**config, "verify_tls": str(bao.ca_file)}, tmp_path,
                       security_mode="strict") as h:
        assert h.host.resolve_secret("api_key") == "over-tls"
        assert verify(h.host.public_key("audit"), b"data", h.host.sign(b"data", "audit"))


def test_ca_bundle_defaults_to_vault_cacert(setup, monkeypatch):
    bao, config, tmp_path = setup
    monkeypatch.setenv("VAULT_CACERT", str(bao.ca_file))
    with PluginHarness("secrets", "vault", config, tmp_path, security_mode="strict") as h:
        assert h.host.resolve_secret("api_key") == "over-tls"


def test_server_certificate_from_an_unknown_ca_is_refused(setup):
    bao, config, tmp_path = setup
    with pytest.raises(VaultUnavailable) as excinfo, \
            PluginHarness("secrets", "vault", config, tmp_path, security_mode="strict"):
        pass
    message = str(excinfo.value)
    assert message.startswith(f"TLS with Vault at {bao.address} failed (cannot look up auth/token/lookup-self)")
    assert "CERTIFICATE_VERIFY_FAILED" in message and "check verify_tls / VAULT_CACERT" in message


def test_missing_ca_bundle_is_named(setup):
    bao, config, tmp_path = setup
    with pytest.raises(VaultError) as excinfo, \
            PluginHarness("secrets", "vault", {**config, "verify_tls": str(tmp_path / "no-ca.pem")}, tmp_path,
                          security_mode="strict"):
        pass
    assert str(excinfo.value) == (f"the CA bundle {tmp_path / 'no-ca.pem'} for Vault at {bao.address} (verify_tls "
                                  f"/ VAULT_CACERT) does not exist or is not a file")
