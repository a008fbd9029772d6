"""Token lifetime against a real OpenBao server: renewal before expiry, maximum TTL, expiry, revocation."""

from __future__ import annotations

import itertools
import logging
import time

import pytest
from aegis_secrets_vault import VaultTokenError

from aegis.testing import PluginHarness


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for variable in ("VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_SECRET_PATH", "VAULT_CACERT", "VAULT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def vault(bao, tmp_path):
    def start(token_file, path: str, **config) -> PluginHarness:
        return PluginHarness("secrets", "vault", {"address": bao.address, "token_file": str(token_file),
                                                  "secret_path": f"secret/data/{path}", **config},
                             tmp_path / "state", security_mode="strict")

    return start


def renewal_times(caplog, since: float) -> list[float]:
    return [r.created - since for r in caplog.records if r.getMessage().startswith("renewed the Vault token")]


def test_renewable_token_is_renewed_before_it_expires(bao, grant, token_file, secret_path, vault, caplog):
    path = secret_path({"api_key": "k"})
    token = grant(path, ttl="3s", renewable=True)
    started = time.time()
    with caplog.at_level(logging.INFO), vault(token_file(token), path, renew_before=0.5) as h:
        time.sleep(4.5)  # well past the token's original 3 s TTL
        assert h.host.resolve_secret("api_key") == "k"
        assert bao.lookup(token)["ttl"] > 0
        renewer = h.plugin.session.renewer
        assert renewer.running and renewer.renewals >= 2
    assert not renewer.running, "shutdown stops the renewal thread"
    times = renewal_times(caplog, started)
    # The first renewal comes when 1.5 s (half the TTL) are left by Vault's whole-second TTL count (which
    # rounds down, so up to a second early), and before the token expires.
    assert 0.4 < times[0] < 2.0, times
    assert all(b - a < 3.0 for a, b in itertools.pairwise(times)), times
    assert token not in caplog.text


def test_token_at_its_maximum_ttl_expires_with_a_warning_then_a_clear_error(bao, grant, token_file, secret_path,
                                                                           vault, caplog):
    path = secret_path({"api_key": "k"})
    file = token_file(grant(path, ttl="2s", explicit_max_ttl="3s"))
    with caplog.at_level(logging.INFO), vault(file, path, renew_before=0.5) as h:
        assert h.host.resolve_secret("api_key") == "k"
        h.plugin.session.renewer.join(timeout=6)  # ends when the token has expired
        with pytest.raises(VaultTokenError) as excinfo:
            h.host.resolve_secret("api_key")
    assert f"the Vault token in {file} is invalid, expired or revoked" in str(excinfo.value)
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"the Vault token from {file} reached its maximum TTL" in m for m in messages), messages
    assert any(f"the Vault token from {file} has expired (maximum TTL reached)" in m for m in messages), messages


def test_non_renewable_token_is_not_renewed_and_expiry_is_a_clear_error(bao, grant, token_file, secret_path,
                                                                        vault, caplog):
    path = secret_path({"api_key": "k"})
    file = token_file(grant(path, ttl="1s", renewable=False))
    with caplog.at_level(logging.WARNING), vault(file, path) as h:
        assert h.plugin.session.renewer is None
        time.sleep(1.6)
        with pytest.raises(VaultTokenError, match="invalid, expired or revoked"):
            h.host.resolve_secret("api_key")
    assert any(f"the Vault token from {file} is not renewable: it expires in" in r.getMessage()
               for r in caplog.records)


def test_token_revoked_while_renewing_stops_renewal_with_an_error(bao, grant, token_file, secret_path, vault,
                                                                  caplog):
    path = secret_path({"api_key": "k"})
    token = grant(path, ttl="2s")
    file = token_file(token)
    with caplog.at_level(logging.INFO), vault(file, path) as h:
        renewer = h.plugin.session.renewer
        bao.root.auth.token.revoke(token)
        renewer.join(timeout=3)
        assert not renewer.running
        with pytest.raises(VaultTokenError):
            h.host.resolve_secret("api_key")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"Vault token renewal stopped: the Vault token in {file} is invalid, expired or revoked "
                      f"(Vault at {bao.address} denied auth/token/lookup-self); put a valid token in that file"]


def test_token_without_expiry_needs_no_renewal(bao, token_file, secret_path, vault):
    path = secret_path({"api_key": "k"})
    with vault(token_file(bao.root.token), path) as h:
        assert h.plugin.session.renewer is None
        assert h.plugin.session.token.ttl == 0 and "no expiry" in h.plugin.session.token.describe()
