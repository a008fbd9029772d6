"""``aegis vault init-keys`` and ``aegis vault status`` as an operator runs them (real subprocesses, real OpenBao)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from aegis.errors import SecurityViolation

AEGIS = str(Path(sys.executable).with_name("aegis"))
KEY_ADMIN = 'path "transit/keys/*" { capabilities = ["create", "update", "read"] }'


def aegis(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "AEGIS_"))}
    return subprocess.run([AEGIS, *args], capture_output=True, text=True, timeout=60, env={**clean, **env})


def vault_env(bao, token_file: Path, secret_path: str) -> dict[str, str]:
    return {"VAULT_ADDR": bao.address, "VAULT_TOKEN_FILE": str(token_file), "VAULT_SECRET_PATH": secret_path}


def test_init_keys_creates_non_exportable_keys_once(bao, token_file):
    names = [f"cli-{uuid.uuid4().hex[:8]}", f"cli-{uuid.uuid4().hex[:8]}"]
    env = vault_env(bao, token_file(bao.token(bao.policy(KEY_ADMIN))), "secret/data/aegis/keys")
    first = aegis("vault", "init-keys", "--key", names[0], "--key", names[1], env=env)
    assert first.returncode == 0, first.stderr
    for name in names:
        key = bao.root.secrets.transit.read_key(name)["data"]
        assert key["type"] == "ecdsa-p256" and key["exportable"] is False and key["allow_plaintext_backup"] is False
        assert f"created Transit key transit/keys/{name} (ecdsa-p256, version 1, not exportable), public key " \
               f"sha256:" in first.stdout
    again = aegis("vault", "init-keys", "--key", names[0], env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"exists: Transit key transit/keys/{names[0]} (ecdsa-p256, version 1")


def test_init_keys_refuses_an_existing_key_of_another_type(bao, token_file):
    name = f"cli-ed-{uuid.uuid4().hex[:8]}"
    bao.root.secrets.transit.create_key(name, key_type="ed25519")
    env = vault_env(bao, token_file(bao.token(bao.policy(KEY_ADMIN))), "secret/data/aegis/keys")
    result = aegis("vault", "init-keys", "--key", name, env=env)
    assert result.returncode == 1
    assert f"transit/keys/{name} is of type ed25519" in result.stderr and "Traceback" not in result.stderr


def test_status_shows_server_token_and_secrets_but_never_the_token(bao, grant, token_file, secret_path):
    path = secret_path({"api_key": "VALUE-status-1", "db": "VALUE-status-2"})
    token = grant(path, "audit")
    file = token_file(token)
    result = aegis("vault", "status", env=vault_env(bao, file, f"secret/{path}"))
    assert result.returncode == 0, result.stderr
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in result.stdout.splitlines())
    assert lines["server"].startswith(f"{bao.address} (version ") and lines["server"].endswith(", unsealed)")
    assert lines["token file"] == str(file)
    assert "policies aegis-test-" in lines["token"] and "TTL" in lines["token"] and "(renewable" in lines["token"]
    assert lines["secrets"] == f"secret/data/{path} (version 1, 2 key(s))"
    assert lines["signing key"].startswith("transit/keys/audit (ecdsa-p256, version 1, public key sha256:")
    output = result.stdout + result.stderr
    assert token not in output and "VALUE-status" not in output


def test_status_reports_what_the_token_may_not_read(bao, grant, token_file, secret_path):
    allowed, forbidden = secret_path({"a": "1"}), secret_path({"a": "2"})
    result = aegis("vault", "status", env=vault_env(bao, token_file(grant(allowed)), f"secret/{forbidden}"))
    assert result.returncode == 0, result.stderr
    assert f"does not let this token read secret/data/{forbidden}" in result.stdout
    assert "does not let this token read transit/keys/audit" in result.stdout


def test_strict_mode_refuses_a_token_file_others_can_read(bao, grant, token_file, secret_path):
    path = secret_path({"a": "1"})
    token = grant(path)
    file = token_file(token, mode=0o644)
    result = aegis("vault", "status", env=vault_env(bao, file, f"secret/{path}"))
    assert result.returncode == SecurityViolation.exit_code
    assert "FATAL: Security Violation" in result.stderr and f"chmod 600 {file}" in result.stderr
    assert token not in result.stderr + result.stdout
    permissive = aegis("vault", "status", env={**vault_env(bao, file, f"secret/{path}"),
                                               "AEGIS_SECURITY_MODE": "permissive"})
    assert permissive.returncode == 0, permissive.stderr
    assert "accessible by group or others" in permissive.stderr


def test_connection_from_a_deployment_file(bao, grant, token_file, secret_path, tmp_path):
    path = secret_path({"a": "1"})
    deployment = {
        "deployment": "vault-cli-test",
        "security_mode": "strict",
        "secrets": {"plugin": "vault", "config": {"address": bao.address, "token_file": str(token_file(grant(path))),
                                                  "secret_path": f"secret/data/{path}"}},
        "ingress": [{"plugin": "file", "config": {}}],
        "scoring": [{"plugin": "rules", "config": {}}],
        "audit": [{"plugin": "jsonl", "config": {}}],
    }
    config = tmp_path / "aegis.yaml"
    config.write_text(yaml.safe_dump(deployment))
    result = aegis("vault", "-c", str(config), "status", env={})
    assert result.returncode == 0, result.stderr
    assert f"secret/data/{path} (version 1, 1 key(s))" in result.stdout

    deployment["secrets"] = {"plugin": "env", "config": {}}
    config.write_text(yaml.safe_dump(deployment))
    wrong = aegis("vault", "-c", str(config), "status", env={})
    assert wrong.returncode == 2 and "the secrets backend is 'env', not 'vault'" in wrong.stderr


def test_missing_settings_are_a_config_error(tmp_path):
    result = aegis("vault", "status", env={})
    assert result.returncode == 2
    assert "address (or VAULT_ADDR)" in result.stderr and "Traceback" not in result.stderr
