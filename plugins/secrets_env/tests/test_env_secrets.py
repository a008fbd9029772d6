"""The env secrets backend through the real loading path (entry point, Config, startup)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aegis_secrets_env import EnvSecrets, generate_key
from aegis_secrets_env.keys import SigningKeyError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aegis.context import Context
from aegis.errors import SecretNotFound, SecurityViolation
from aegis.signing import verify
from aegis.testing import PluginHarness


def harness(tmp_path: Path, security_mode: str = "permissive", **config) -> PluginHarness:
    return PluginHarness("secrets", "env", {"key_dir": str(tmp_path / "keys"), **config}, tmp_path / "state",
                         security_mode=security_mode)


def write_private_key(path: Path, private_key, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    path.chmod(mode)


# -- security modes ----------------------------------------------------------


def test_strict_mode_refuses_to_start(tmp_path):
    with pytest.raises(SecurityViolation) as excinfo, harness(tmp_path, security_mode="strict"):
        pass
    message = str(excinfo.value)
    assert message.startswith("FATAL: Security Violation")
    assert "environment variables" in message and "strict" in message
    for fix in ("AEGIS_SECRETS_MODE=hsm", "AEGIS_SECRETS_MODE=vault", "AEGIS_SECURITY_MODE=permissive"):
        assert fix in message
    assert excinfo.value.exit_code != 0


@pytest.mark.parametrize("hook, kwargs", [
    ("aegis_secrets_resolve", {"name": "db_password"}),
    ("aegis_secrets_sign", {"data": b"x", "key": "audit"}),
    ("aegis_secrets_public_key", {"key": "audit"}),
])
def test_strict_mode_refuses_every_secret_even_without_startup(tmp_path, monkeypatch, hook, kwargs):
    monkeypatch.setenv("AEGIS_SECRET_DB_PASSWORD", "hunter2")
    plugin = EnvSecrets(EnvSecrets.Config(key_dir=tmp_path / "keys"))
    with pytest.raises(SecurityViolation):
        getattr(plugin, hook)(context=Context(security_mode="strict"), **kwargs)
    assert not (tmp_path / "keys").exists(), "no key may be generated in strict mode"


def test_permissive_mode_warns_once_per_process(tmp_path):
    script = f"""
import logging
from pathlib import Path
from aegis.context import Context
from aegis_secrets_env import EnvSecrets
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
context = Context(security_mode="permissive")
for _ in range(3):
    EnvSecrets(EnvSecrets.Config(key_dir=Path({str(tmp_path / "keys")!r}))).aegis_startup(context=context)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, result.stderr
    assert "aegis.secrets.env" in warnings[0]
    assert "environment variables" in warnings[0] and "software keys" in warnings[0]
    assert "Development only" in warnings[0]


# -- secrets -----------------------------------------------------------------


def test_resolves_secret_from_prefixed_upper_case_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("AEGIS_SECRET_DB_PASSWORD", "hunter2")
    monkeypatch.setenv("AEGIS_SECRET_KAFKA_SASL_PASSWORD", "s3cret")
    with harness(tmp_path) as h:
        assert h.host.resolve_secret("db_password") == "hunter2"
        assert h.host.resolve_secret("kafka.sasl-password") == "s3cret"


def test_reads_the_environment_at_call_time_with_a_custom_prefix(tmp_path, monkeypatch):
    with harness(tmp_path, prefix="BANK_") as h:
        monkeypatch.setenv("BANK_API_KEY", "k1")
        assert h.host.resolve_secret("api_key") == "k1"
        monkeypatch.setenv("BANK_API_KEY", "k2")
        assert h.host.resolve_secret("api_key") == "k2"


def test_missing_secret_names_the_variable_and_backend(tmp_path, monkeypatch):
    monkeypatch.delenv("AEGIS_SECRET_X", raising=False)
    with harness(tmp_path) as h, pytest.raises(SecretNotFound) as excinfo:
        h.host.resolve_secret("x")
    assert str(excinfo.value) == ("secret 'x' not found: environment variable AEGIS_SECRET_X is not set "
                                  "(secrets backend env)")
    assert isinstance(excinfo.value, KeyError)


def test_empty_variable_is_not_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("AEGIS_SECRET_TOKEN", "")
    with harness(tmp_path) as h, pytest.raises(SecretNotFound, match="AEGIS_SECRET_TOKEN is set but empty"):
        h.host.resolve_secret("token")


def test_prefix_must_be_an_environment_variable_name():
    with pytest.raises(ValueError, match="prefix"):
        EnvSecrets.Config(prefix="AEGIS SECRET=")


# -- signing keys ------------------------------------------------------------


def test_generated_key_signs_and_verifies(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="aegis"), harness(tmp_path) as h:
        signature = h.host.sign(b"chain head 0042", "audit")
        pem = h.host.public_key("audit")
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert verify(pem, b"chain head 0042", signature)
    assert not verify(pem, b"chain head 0043", signature)

    key_file = tmp_path / "keys" / "audit.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    on_disk = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(on_disk.curve, ec.SECP256R1)
    assert on_disk.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo) == pem
    generated = [r.getMessage() for r in caplog.records if "generated" in r.getMessage()]
    assert len(generated) == 1 and "DEVELOPMENT" in generated[0] and str(key_file) in generated[0]


def test_existing_key_file_is_used(tmp_path):
    private_key = ec.generate_private_key(ec.SECP256R1())
    write_private_key(tmp_path / "keys" / "timestamp.pem", private_key)
    with harness(tmp_path) as h:
        signature = h.host.sign(b"2026-01-05T09:00:00Z", "timestamp")
    expected_pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    assert verify(expected_pem, b"2026-01-05T09:00:00Z", signature)


def test_distinct_key_names_are_distinct_keys(tmp_path):
    with harness(tmp_path) as h:
        assert h.host.public_key("audit") != h.host.public_key("timestamp")
        assert h.host.public_key("audit") == h.host.public_key("audit")


def test_loaded_key_is_cached(tmp_path):
    with harness(tmp_path) as h:
        pem = h.host.public_key("audit")
        (tmp_path / "keys" / "audit.pem").unlink()
        signature = h.host.sign(b"data", "audit")
    assert verify(pem, b"data", signature)


def test_missing_key_without_generation_is_not_found(tmp_path):
    with harness(tmp_path, generate_missing_keys=False) as h, pytest.raises(SecretNotFound) as excinfo:
        h.host.sign(b"data", "audit")
    assert str(tmp_path / "keys" / "audit.pem") in str(excinfo.value)
    assert not (tmp_path / "keys" / "audit.pem").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused(tmp_path, mode):
    key_file = tmp_path / "keys" / "audit.pem"
    write_private_key(key_file, ec.generate_private_key(ec.SECP256R1()), mode=mode)
    with harness(tmp_path) as h, pytest.raises(SecurityViolation) as excinfo:
        h.host.sign(b"data", "audit")
    assert str(key_file) in str(excinfo.value) and "chmod 600" in str(excinfo.value)


@pytest.mark.parametrize("key", ["../audit", "a/b", "", "audit key", "/etc/passwd", "..\\x"])
def test_key_names_cannot_leave_the_key_directory(tmp_path, key):
    with harness(tmp_path) as h, pytest.raises(SigningKeyError, match="invalid signing key name"):
        h.host.sign(b"data", key)
    assert list(tmp_path.rglob("*.pem")) == []


def test_wrong_key_types_are_refused_with_the_file_named(tmp_path):
    keys = tmp_path / "keys"
    write_private_key(keys / "p384.pem", ec.generate_private_key(ec.SECP384R1()))
    (keys / "garbage.pem").write_bytes(b"not a key")
    (keys / "garbage.pem").chmod(0o600)
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"))
    (keys / "encrypted.pem").write_bytes(encrypted)
    (keys / "encrypted.pem").chmod(0o600)
    with harness(tmp_path) as h:
        for key, reason in [("p384", "secp384r1"), ("garbage", "not a PEM private key"), ("encrypted", "encrypted")]:
            with pytest.raises(SigningKeyError) as excinfo:
                h.host.sign(b"data", key)
            assert reason in str(excinfo.value) and str(keys / f"{key}.pem") in str(excinfo.value)


def test_generate_key_never_overwrites(tmp_path):
    path = tmp_path / "keys" / "audit.pem"
    generate_key(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_key(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["audit.pem"]  # no temporary left behind
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_generate_key_mode_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        generate_key(tmp_path / "audit.pem")
    finally:
        os.umask(old)
    assert (tmp_path / "audit.pem").stat().st_mode & 0o777 == 0o600


def test_self_test_round_trip(tmp_path):
    with harness(tmp_path, self_test_key="checkpoint") as h:
        [result] = h.host.self_test()
    assert result.ok, result
    assert result.plugin == "secrets (env)" and "checkpoint" in result.check
    assert "sha256:" in result.detail


def test_self_test_reports_an_unusable_key(tmp_path):
    write_private_key(tmp_path / "keys" / "audit.pem", ec.generate_private_key(ec.SECP256R1()), mode=0o644)
    with harness(tmp_path) as h:
        [result] = h.host.self_test()
    assert not result.ok and "SecurityViolation" in result.detail


def test_capabilities():
    assert EnvSecrets.capabilities == {"non_extractable_keys": False, "signing": True}
