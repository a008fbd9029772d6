"""``aegis hsm``: init-keys, list, public-key, put-secret, through the installed ``aegis`` command."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aegis.cli import main
from aegis.signing import verify

AEGIS = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "aegis"


def aegis_hsm(softhsm, *args: str, input: str | bytes | None = None, **environ: str) -> Result:
    return CliRunner().invoke(main, ["hsm", *args], input=input, env=softhsm.environ(**environ))


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def test_hsm_commands_come_from_the_plugin_entry_point():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and re.search(r"^\s+hsm\s", result.output, re.M)
    result = CliRunner().invoke(main, ["hsm", "--help"])
    for command in ("init-keys", "list", "public-key", "put-secret"):
        assert command in result.output


@pytest.mark.parametrize("kind, algorithm", [("ec-p256", "ECDSA P-256"), ("rsa-2048", "RSA-2048 PSS")])
def test_init_keys_generates_protected_keys_the_plugin_signs_with(softhsm, hsm_harness, tmp_path, kind, algorithm):
    first, second = unique("cli"), unique("cli")
    result = aegis_hsm(softhsm, "init-keys", "--key", first, "--key", second, "--type", kind)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"generated key '{first}': {algorithm}")
    assert all("sensitive and non-extractable" in line for line in lines)

    out = tmp_path / f"{first}.pem"
    exported = aegis_hsm(softhsm, "public-key", first, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    pem = out.read_bytes()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----") and str(out) in exported.stderr
    assert aegis_hsm(softhsm, "public-key", first).stdout.encode() == pem
    with hsm_harness(key_type=kind) as h:
        assert verify(pem, b"ceremony", h.host.sign(b"ceremony", first))
        assert h.host.public_key(first) == pem


def test_init_keys_refuses_existing_keys_and_generates_nothing(softhsm):
    fresh = unique("fresh")
    result = aegis_hsm(softhsm, "init-keys", "--key", fresh, "--key", "audit")
    assert result.exit_code == 1
    assert "'audit' exist already in token AegisToken; nothing was generated" in result.stderr
    assert "--rotate" in result.stderr and "Traceback" not in result.output
    missing = aegis_hsm(softhsm, "public-key", fresh)
    assert missing.exit_code == 1 and f"signing key '{fresh}' not found" in missing.stderr


def test_rotate_keeps_the_old_key_under_a_new_label(softhsm, hsm_harness):
    name = unique("rotating")
    assert aegis_hsm(softhsm, "init-keys", "--key", name).exit_code == 0
    old_pem = aegis_hsm(softhsm, "public-key", name).stdout
    with hsm_harness() as h:
        old_signature = h.host.sign(b"signed before the rotation", name)

    result = aegis_hsm(softhsm, "init-keys", "--key", name, "--rotate")
    assert result.exit_code == 0, result.output
    retired = re.search(r"the previous key is now labelled '([^']+)'", result.output).group(1)
    assert re.fullmatch(rf"{name}\.rotated-\d{{8}}T\d{{6}}Z", retired)
    new_pem = aegis_hsm(softhsm, "public-key", name).stdout
    assert new_pem != old_pem
    assert aegis_hsm(softhsm, "public-key", retired).stdout == old_pem
    assert verify(old_pem.encode(), b"signed before the rotation", old_signature)
    listing = aegis_hsm(softhsm, "list").stdout
    assert f"key     {name}  ec-p256  sensitive, non-extractable" in listing
    assert f"key     {retired}  ec-p256  sensitive, non-extractable" in listing
    assert ".new-" not in listing  # no staging label left behind


def test_list_shows_keys_and_secret_names_never_values(softhsm):
    result = aegis_hsm(softhsm, "list")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("token AegisToken (SoftHSM project SoftHSM v2, serial ")
    assert "key     audit  ec-p256  sensitive, non-extractable  sha256:" in result.output
    assert "key     audit-rsa  rsa-2048  sensitive, non-extractable  sha256:" in result.output
    assert "secret  db_password  (data object aegis-secret:db_password)" in result.output
    for value in softhsm.secrets.values():
        assert value not in result.output


def test_put_secret_from_file_stdin_and_replace(softhsm, hsm_harness, tmp_path):
    name = unique("api_key")
    source = tmp_path / "value.txt"
    source.write_text("from-a-file\n")
    stored = aegis_hsm(softhsm, "put-secret", name, "--from-file", str(source))
    assert stored.exit_code == 0, stored.output
    assert stored.output == (f"stored secret '{name}' as private data object 'aegis-secret:{name}' "
                             f"in token AegisToken\n")
    refused = aegis_hsm(softhsm, "put-secret", name, input="other")
    assert refused.exit_code == 1 and "exists already" in refused.stderr and "--replace" in refused.stderr
    with hsm_harness() as h:
        assert h.host.resolve_secret(name) == "from-a-file"  # one trailing line break dropped
    replaced = aegis_hsm(softhsm, "put-secret", name, "--replace", input="from stdin\r\n")
    assert replaced.exit_code == 0 and replaced.output.startswith("replaced secret")
    with hsm_harness() as h:
        assert h.host.resolve_secret(name) == "from stdin"


@pytest.mark.parametrize("value, problem", [(b"", "the value is empty"), (b"\n", "the value is empty"),
                                            (b"\xff\xfe", "not UTF-8 text"), (b"x" * 70_000, "larger than")])
def test_put_secret_refuses_unusable_values(softhsm, value, problem):
    result = aegis_hsm(softhsm, "put-secret", unique("bad"), input=value)
    assert result.exit_code == 1 and problem in result.stderr


def test_cli_reports_wrong_pin_and_open_pin_file(softhsm, tmp_path):
    wrong = tmp_path / "wrong_pin"
    wrong.write_text("0000\n")
    wrong.chmod(0o600)
    result = aegis_hsm(softhsm, "list", AEGIS_HSM_PIN_FILE=str(wrong))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"HSM Failure: Wrong PIN: the token refused the PIN read from {wrong} "
                                     f"(label AegisToken, library {softhsm.library})")
    wrong.chmod(0o644)
    result = aegis_hsm(softhsm, "list", AEGIS_HSM_PIN_FILE=str(wrong))
    assert result.exit_code == 78 and result.stderr.startswith("FATAL: Security Violation: HSM PIN file")
    result = aegis_hsm(softhsm, "list", AEGIS_SECURITY_MODE="lenient")
    assert result.exit_code == 2 and "AEGIS_SECURITY_MODE: must be strict or permissive" in result.stderr


def test_installed_command_in_its_own_process(softhsm, hsm_harness):
    name = unique("subprocess")
    environ = {**os.environ, **softhsm.environ()}
    stored = subprocess.run([str(AEGIS), "hsm", "put-secret", name], input=b"written by another process\n",
                            env=environ, capture_output=True, timeout=60)
    assert stored.returncode == 0, stored.stderr
    listing = subprocess.run([str(AEGIS), "hsm", "list"], env=environ, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and f"secret  {name}" in listing.stdout
    with hsm_harness() as h:  # this process sees what the other one stored
        assert h.host.resolve_secret(name) == "written by another process"
    missing = subprocess.run([str(AEGIS), "hsm", "list"], env={**environ, "AEGIS_HSM_TOKEN": "Elsewhere"},
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (f"HSM Failure: Token not found (label Elsewhere, library {softhsm.library}); "
                                      f"tokens present: 'AegisToken'")
