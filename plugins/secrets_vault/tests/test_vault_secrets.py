"""The vault backend against a real OpenBao server: KV v2 versions, Transit signing, policies, token files."""

from __future__ import annotations

import logging
import re

import pytest
from aegis_secrets_vault import SigningKeyError, VaultError, VaultPermissionDenied, VaultTokenError, VaultUnavailable
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from aegis.errors import AegisError, SecretNotFound, SecurityViolation
from aegis.signing import verify
from aegis.testing import PluginHarness


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for variable in ("VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_SECRET_PATH", "VAULT_CACERT", "VAULT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def vault(bao, tmp_path):
    """``vault(token_file, secret_path, security_mode="strict", **config)``: a started harness."""

    def start(token_file, path: str, security_mode: str = "strict", **config) -> PluginHarness:
        return PluginHarness("secrets", "vault", {"address": bao.address, "token_file": str(token_file),
                                                  "secret_path": path, **config},
                             tmp_path / "state", security_mode=security_mode)

    return start


# -- KV v2 secrets ---------------------------------------------------------------


def test_reads_latest_and_pinned_versions(bao, grant, token_file, secret_path, vault):
    path = secret_path({"api_key": "key-v1", "db_password": "pw-v1"})
    bao.write_secret(path, {"api_key": "key-v2"})
    with vault(token_file(grant(path)), f"secret/data/{path}") as h:
        assert h.host.resolve_secret("api_key") == "key-v2"
        assert h.host.resolve_secret("api_key@2") == "key-v2"
        assert h.host.resolve_secret("api_key@1") == "key-v1"
        assert h.host.resolve_secret("db_password@1") == "pw-v1"
        with pytest.raises(SecretNotFound) as excinfo:
            h.host.resolve_secret("db_password")  # gone in version 2
        assert str(excinfo.value) == (f"secret 'db_password' not found: the latest version of the KV v2 secret "
                                      f"secret/data/{path} has no key 'db_password' (secrets backend vault, "
                                      f"{bao.address})")
        with pytest.raises(SecretNotFound) as excinfo:
            h.host.resolve_secret("api_key@3")
        assert f"secret/data/{path} has no version 3" in str(excinfo.value)


def test_mount_relative_secret_path_reads_the_same_secret(bao, grant, token_file, secret_path, vault):
    path = secret_path({"api_key": "k"})
    with vault(token_file(grant(path)), f"secret/{path}") as h:
        assert h.host.resolve_secret("api_key") == "k"


def test_name_with_at_sign_and_no_version_is_a_plain_key(bao, grant, token_file, secret_path, vault):
    path = secret_path({"ops@bank": "mail-password", "x@latest": "y"})
    with vault(token_file(grant(path)), f"secret/data/{path}") as h:
        assert h.host.resolve_secret("ops@bank") == "mail-password"
        assert h.host.resolve_secret("x@latest") == "y"


def test_deleted_latest_version_is_not_found_but_older_versions_are(bao, grant, token_file, secret_path, vault):
    path = secret_path({"api_key": "old"})
    bao.write_secret(path, {"api_key": "new"})
    bao.root.secrets.kv.v2.delete_latest_version_of_secret(path=path, mount_point="secret")
    with vault(token_file(grant(path)), f"secret/data/{path}") as h:
        with pytest.raises(SecretNotFound, match="latest version was deleted"):
            h.host.resolve_secret("api_key")
        with pytest.raises(SecretNotFound, match=re.escape("has no version 2 (or it was deleted or destroyed)")):
            h.host.resolve_secret("api_key@2")
        assert h.host.resolve_secret("api_key@1") == "old"


def test_missing_secret_path_is_not_found(bao, grant, token_file, vault):
    with vault(token_file(grant("aegis/never-written")), "secret/data/aegis/never-written") as h, \
            pytest.raises(SecretNotFound) as excinfo:
        h.host.resolve_secret("api_key")
    assert "secret/data/aegis/never-written does not exist" in str(excinfo.value)
    assert isinstance(excinfo.value, KeyError)


def test_values_that_are_not_strings_are_refused_without_showing_them(bao, grant, token_file, secret_path, vault):
    path = secret_path({"pin": 918273, "nested": {"card_pin": "5647"}, "empty": ""})
    with vault(token_file(grant(path)), f"secret/data/{path}") as h:
        with pytest.raises(VaultError) as number:
            h.host.resolve_secret("pin")
        with pytest.raises(VaultError) as nested:
            h.host.resolve_secret("nested")
        with pytest.raises(SecretNotFound, match="it is empty"):
            h.host.resolve_secret("empty")
    assert "is a JSON int, not a string" in str(number.value) and "918273" not in str(number.value)
    assert "is a JSON dict, not a string" in str(nested.value) and "5647" not in str(nested.value)


# -- policies ----------------------------------------------------------------------


def test_forbidden_secret_path_names_the_path_and_policies_never_the_token(bao, grant, token_file, secret_path,
                                                                          vault):
    allowed, forbidden = secret_path({"a": "1"}), secret_path({"api_key": "top-secret-value"})
    token = grant(allowed)
    with vault(token_file(token), f"secret/data/{forbidden}") as h, \
            pytest.raises(VaultPermissionDenied) as excinfo:
        h.host.resolve_secret("api_key")
    message = str(excinfo.value)
    assert f"does not let this token read secret/data/{forbidden}" in message
    assert bao.address in message and "default" in message and "aegis-test-" in message  # the policies
    assert token not in message and "top-secret-value" not in message
    assert isinstance(excinfo.value, AegisError) and excinfo.value.exit_code != 0


def test_forbidden_signing_names_the_transit_path(bao, token_file, secret_path, vault):
    path = secret_path({"a": "1"})
    read_key_only = bao.policy(f'path "secret/data/{path}" {{ capabilities = ["read"] }}\n'
                               'path "transit/keys/audit" { capabilities = ["read"] }')
    token = bao.token(read_key_only)
    with vault(token_file(token), f"secret/data/{path}") as h:
        assert h.host.public_key("audit").startswith(b"-----BEGIN PUBLIC KEY-----")
        with pytest.raises(VaultPermissionDenied) as excinfo:
            h.host.sign(b"checkpoint", "audit")
        assert "sign with transit/sign/audit" in str(excinfo.value) and token not in str(excinfo.value)
        with pytest.raises(VaultPermissionDenied, match="read transit/keys/timestamp"):
            h.host.public_key("timestamp")


# -- Transit signing -------------------------------------------------------------------


def test_signature_is_der_ecdsa_verified_with_cryptography(bao, grant, token_file, secret_path, vault):
    path = secret_path({"a": "1"})
    data = b"audit chain head 000042 3f9a"
    with vault(token_file(grant(path, "audit")), f"secret/data/{path}") as h:
        signature = h.host.sign(data, "audit")
        pem = h.host.public_key("audit")
    transit_pem = bao.root.secrets.transit.read_key("audit")["data"]["keys"]["1"]["public_key"].encode()
    public_key = serialization.load_pem_public_key(pem)
    assert public_key == serialization.load_pem_public_key(transit_pem)
    assert isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)
    r, s = decode_dss_signature(signature)  # DER, not Vault's "vault:v1:" form
    assert r > 0 and s > 0
    public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))  # raises if invalid
    assert verify(pem, data, signature) and not verify(pem, data + b"\x00", signature)


def test_rsa_transit_key_signs_pss_that_verifies(bao, token_file, secret_path, vault):
    bao.root.secrets.transit.create_key("rsa-signing", key_type="rsa-2048")
    path = secret_path({"a": "1"})
    token = bao.token(bao.policy('path "transit/sign/rsa-signing" { capabilities = ["update"] }\n'
                                 'path "transit/keys/rsa-signing" { capabilities = ["read"] }'))
    with vault(token_file(token), f"secret/data/{path}") as h:
        signature = h.host.sign(b"data", "rsa-signing")
        assert verify(h.host.public_key("rsa-signing"), b"data", signature)


def test_missing_transit_key_says_how_to_create_it(bao, grant, token_file, secret_path, vault):
    path = secret_path({"a": "1"})
    token = bao.token(bao.policy('path "transit/*" { capabilities = ["read", "update"] }'))
    with vault(token_file(token), f"secret/data/{path}") as h:
        for call in (lambda: h.host.sign(b"x", "no-such-key"), lambda: h.host.public_key("no-such-key")):
            with pytest.raises(SecretNotFound) as excinfo:
                call()
            assert "no Transit key transit/keys/no-such-key" in str(excinfo.value)
            assert "aegis vault init-keys --key no-such-key" in str(excinfo.value)


def test_key_types_aegis_cannot_verify_are_refused(bao, token_file, secret_path, vault):
    bao.root.secrets.transit.create_key("ed-key", key_type="ed25519")
    path = secret_path({"a": "1"})
    token = bao.token(bao.policy('path "transit/*" { capabilities = ["read", "update"] }'))
    with vault(token_file(token), f"secret/data/{path}") as h, pytest.raises(SigningKeyError) as excinfo:
        h.host.sign(b"x", "ed-key")
    assert "transit/keys/ed-key is of type ed25519" in str(excinfo.value)


@pytest.mark.parametrize("key", ["../sys/policy", "a/b", "", "audit key", "audit?x=1"])
def test_key_names_cannot_reach_other_api_paths(bao, grant, token_file, secret_path, vault, key):
    path = secret_path({"a": "1"})
    with vault(token_file(grant(path, "audit")), f"secret/data/{path}") as h:
        with pytest.raises(SigningKeyError, match="invalid signing key name"):
            h.host.sign(b"x", key)
        with pytest.raises(SigningKeyError, match="invalid signing key name"):
            h.host.public_key(key)


def test_exportable_key_is_refused_in_strict_mode_and_warned_about_in_permissive(bao, token_file, secret_path,
                                                                                 vault, caplog):
    bao.root.secrets.transit.create_key("exportable", key_type="ecdsa-p256", exportable=True)
    path = secret_path({"a": "1"})
    file = token_file(bao.token(bao.policy('path "transit/*" { capabilities = ["read", "update"] }')))
    with vault(file, f"secret/data/{path}") as h, pytest.raises(SecurityViolation, match="is exportable"):
        h.host.sign(b"x", "exportable")
    with caplog.at_level(logging.WARNING), vault(file, f"secret/data/{path}", security_mode="permissive") as h:
        assert verify(h.host.public_key("exportable"), b"x", h.host.sign(b"x", "exportable"))
        h.host.sign(b"y", "exportable")
    warnings = [r.getMessage() for r in caplog.records if "is exportable" in r.getMessage()]
    assert len(warnings) == 1, warnings


def test_missing_transit_mount_is_named(bao, grant, token_file, secret_path, vault):
    path = secret_path({"a": "1"})
    with vault(token_file(bao.token("root")), f"secret/data/{path}", transit_mount="no-transit") as h, \
            pytest.raises(VaultError, match="no Transit engine mounted at no-transit/"):
        h.host.public_key("audit")


# -- token file ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_token_file_others_can_read_is_refused_in_strict_mode(bao, grant, token_file, secret_path, vault, mode):
    path = secret_path({"api_key": "k"})
    token = grant(path)
    file = token_file(token, mode=mode)
    with pytest.raises(SecurityViolation) as excinfo, vault(file, f"secret/data/{path}"):
        pass
    assert str(file) in str(excinfo.value) and f"chmod 600 {file}" in str(excinfo.value)
    assert token not in str(excinfo.value)


def test_token_file_others_can_read_is_a_warning_in_permissive_mode(bao, grant, token_file, secret_path, vault,
                                                                     caplog):
    path = secret_path({"api_key": "k"})
    file = token_file(grant(path), mode=0o644)
    with caplog.at_level(logging.WARNING), vault(file, f"secret/data/{path}", security_mode="permissive") as h:
        assert h.host.resolve_secret("api_key") == "k"
    assert any(f"Vault token file {file} is accessible by group or others (mode 0644)" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


@pytest.mark.parametrize("content, message", [(None, "does not exist"), ("", "is empty"), ("  \n", "is empty"),
                                              ("tok-a\ntok-b", "must hold exactly one token")])
def test_unusable_token_files_are_clear_errors(bao, tmp_path, vault, content, message):
    file = tmp_path / "token"
    if content is not None:
        file.write_text(content)
        file.chmod(0o600)
    with pytest.raises(VaultTokenError) as excinfo, vault(file, "secret/data/aegis/x"):
        pass
    assert f"Vault token file {file} {message}" in str(excinfo.value)
    assert "tok-a" not in str(excinfo.value)


def test_vault_token_environment_variable_is_never_used(bao, grant, token_file, secret_path, vault, monkeypatch,
                                                        caplog):
    allowed, forbidden = secret_path({"a": "1"}), secret_path({"api_key": "k"})
    monkeypatch.setenv("VAULT_TOKEN", bao.root.token)  # root could read anything
    with caplog.at_level(logging.WARNING), vault(token_file(grant(allowed)), f"secret/data/{forbidden}") as h, \
            pytest.raises(VaultPermissionDenied):
        h.host.resolve_secret("api_key")
    assert any("VAULT_TOKEN is set and ignored" in r.getMessage() for r in caplog.records)
    assert bao.root.token not in caplog.text


def test_invalid_token_at_startup_is_a_clear_error(bao, token_file, vault):
    file = token_file("s.NotARealTokenAtAll000000")
    with pytest.raises(VaultTokenError) as excinfo, vault(file, "secret/data/aegis/x"):
        pass
    assert str(excinfo.value) == (f"the Vault token in {file} is invalid, expired or revoked (Vault at {bao.address} "
                                  f"denied auth/token/lookup-self); put a valid token in that file")


def test_revoked_token_is_a_clear_error(bao, grant, token_file, secret_path, vault):
    path = secret_path({"api_key": "k"})
    token = grant(path)
    file = token_file(token)
    with vault(file, f"secret/data/{path}") as h:
        assert h.host.resolve_secret("api_key") == "k"
        bao.root.auth.token.revoke(token)
        with pytest.raises(VaultTokenError) as excinfo:
            h.host.resolve_secret("api_key")
        with pytest.raises(VaultTokenError):
            h.host.sign(b"x", "audit")
    assert f"the Vault token in {file} is invalid, expired or revoked" in str(excinfo.value)
    assert token not in str(excinfo.value)


def test_new_token_written_to_the_file_is_picked_up(bao, grant, token_file, secret_path, vault, caplog):
    """Vault Agent rewrites its sink file with a new token; the backend switches to it on the next 403."""
    path = secret_path({"api_key": "k"})
    old = grant(path)
    file = token_file(old)
    with caplog.at_level(logging.INFO), vault(file, f"secret/data/{path}") as h:
        bao.root.auth.token.revoke(old)
        file.write_text(grant(path) + "\n")
        assert h.host.resolve_secret("api_key") == "k"
    assert any(f"using the new Vault token from {file}" in r.getMessage() for r in caplog.records)


def test_unreachable_server_names_the_address(token_file, vault, unused_address):
    address = unused_address
    with pytest.raises(VaultUnavailable) as excinfo, vault(token_file("s.whatever"), "secret/data/x",
                                                           address=address, timeout=2):
        pass
    assert f"cannot reach Vault at {address} to look up auth/token/lookup-self" in str(excinfo.value)


# -- lifecycle ----------------------------------------------------------------------------------


def test_self_test_checks_token_secrets_and_signing(bao, grant, token_file, secret_path, vault):
    path = secret_path({"a": "1", "b": "2"})
    with vault(token_file(grant(path, "audit")), f"secret/data/{path}") as h:
        results = h.host.self_test()
    assert [r.ok for r in results] == [True, True, True], results
    assert results[0].check == "token valid" and "policies" in results[0].detail
    assert results[1].detail == "version 1, 2 key(s)"
    assert "transit/keys/audit" in results[2].detail and "sha256:" in results[2].detail


def test_self_test_reports_a_key_the_token_cannot_use(bao, grant, token_file, secret_path, vault):
    path = secret_path({"a": "1"})
    with vault(token_file(grant(path)), f"secret/data/{path}", self_test_key="audit") as h:
        token_check, secrets_check, signing_check = h.host.self_test()
    assert token_check.ok and secrets_check.ok
    assert not signing_check.ok and "VaultPermissionDenied" in signing_check.detail


def test_hooks_after_shutdown_are_a_clear_error(bao, grant, token_file, secret_path, vault):
    path = secret_path({"api_key": "k"})
    with vault(token_file(grant(path)), f"secret/data/{path}") as h:
        plugin = h.plugin
    with pytest.raises(VaultError, match=re.escape("not started (or was shut down)")):
        plugin.aegis_secrets_resolve(context=h.context, name="api_key")


def test_secret_values_and_tokens_never_reach_logs_or_errors(bao, grant, token_file, secret_path, vault, caplog):
    values = {"api_key": "VALUE-api-7f3a91", "db_password": "VALUE-db-c0ffee"}
    path = secret_path(values)
    bao.write_secret(path, {"api_key": "VALUE-api-v2-55aa", "pin": 99887766})
    forbidden = secret_path({"x": "VALUE-forbidden-1234"})
    token = grant(path, "audit", ttl="2s")
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG), vault(token_file(token, mode=0o644), f"secret/data/{path}",
                                               security_mode="permissive") as h:
        assert h.host.resolve_secret("api_key") == "VALUE-api-v2-55aa"
        assert h.host.resolve_secret("db_password@1") == values["db_password"]
        for name in ("db_password", "api_key@9", "pin", "nope"):
            with pytest.raises(AegisError) as excinfo:
                h.host.resolve_secret(name)
            messages.append(str(excinfo.value))
        messages += [r.detail for r in h.host.self_test()]
        messages.append(repr(h.plugin.session.token))
        messages.append(repr(h.plugin.config))
        other = PluginHarness("secrets", "vault", {"address": bao.address, "token_file": str(token_file(token)),
                                                   "secret_path": f"secret/data/{forbidden}"}, h.context.state_dir)
        with other, pytest.raises(VaultPermissionDenied) as excinfo:
            other.host.resolve_secret("x")
        messages.append(str(excinfo.value))
        renewer = h.plugin.session.renewer
        bao.root.auth.token.revoke(token)
        with pytest.raises(VaultTokenError) as excinfo:
            h.host.resolve_secret("api_key")
        messages.append(str(excinfo.value))
        renewer.join(timeout=3)  # its next renewal fails: that error is logged too
        assert not renewer.running
    assert len(messages) == 11 and all(messages)
    logged = caplog.text
    assert "token file" in logged and "renewal stopped" in logged  # the logs were captured
    for secret in [token, "VALUE-api-7f3a91", "VALUE-db-c0ffee", "VALUE-api-v2-55aa", "99887766",
                   "VALUE-forbidden-1234"]:
        assert secret not in logged
        assert not [m for m in messages if secret in m], secret
