"""The `aegis` command as operators use it (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import deployment

AEGIS = str(Path(sys.executable).with_name("aegis"))
FIRST_PARTY = {
    ("ingress", "file", "aegis-plugin-ingress-file"),
    ("scoring", "rules", "aegis-plugin-scoring-rules"),
    ("secrets", "env", "aegis-plugin-secrets-env"),
    ("audit", "jsonl", "aegis-plugin-audit-jsonl"),
    ("metrics", "prometheus", "aegis-plugin-metrics-prometheus"),
}


def aegis(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([AEGIS, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, "COLUMNS": "250", **(env or {})})


def config_file(tmp_path: Path, **changes) -> Path:
    source = tmp_path / "in.jsonl"
    if not source.exists():
        from aegis.testing.samples import transactions
        source.write_text("".join(json.dumps(t) + "\n" for t in transactions(50)))
    data = {**deployment(tmp_path, source), **changes}
    path = tmp_path / "aegis.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_plugins_lists_every_first_party_plugin_with_distribution_and_version():
    result = aegis("plugins")
    assert result.returncode == 0, result.stderr
    rows = {tuple(c.strip() for c in line.split("│")[1:5]) for line in result.stdout.splitlines() if "│" in line}
    for family, name, dist in FIRST_PARTY:
        assert (family, name, dist, "0.1.0") in rows, (family, name, dist)


def test_plugins_marks_enabled_and_lists_hooks(tmp_path):
    result = aegis("plugins", "-c", str(config_file(tmp_path)))
    line = next(row for row in result.stdout.splitlines() if "aegis-plugin-scoring-rules" in row)
    assert "yes" in line and "scoring_score" in line
    prom = next(row for row in result.stdout.splitlines() if "aegis-plugin-metrics-prometheus" in row)
    assert "│ no" in prom


def test_plugins_config_prints_the_schema():
    result = aegis("plugins", "--config", "rules")
    schema = json.loads(result.stdout)
    assert "geo" in schema["properties"] and schema["additionalProperties"] is False


def test_config_check_ok_and_failing(tmp_path):
    good = aegis("config", "check", str(config_file(tmp_path)))
    assert good.returncode == 0 and "OK" in good.stdout
    bad = config_file(tmp_path, ingress=[{"plugin": "ftp", "config": {}}])
    result = aegis("config", "check", str(bad))
    assert result.returncode == 3
    assert "ingress plugin 'ftp' is not installed" in result.stderr
    assert "file (aegis-plugin-ingress-file" in result.stderr


def test_strict_mode_with_env_secrets_is_fatal(tmp_path):
    result = aegis("run", "-c", str(config_file(tmp_path)), env={"AEGIS_SECURITY_MODE": "strict"})
    assert result.returncode != 0
    assert "FATAL: Security Violation" in result.stderr
    assert not (tmp_path / "audit" / "audit.jsonl").exists(), "nothing may run in a refused deployment"


def test_self_test_passes_on_a_good_deployment(tmp_path):
    result = aegis("self-test", "-c", str(config_file(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout


def test_run_prints_summary(tmp_path):
    result = aegis("run", "-c", str(config_file(tmp_path)), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "transactions screened" in result.stdout and "50" in result.stdout
    assert "batch latency p50 / p99" in result.stdout


def test_unknown_option_in_plugin_section_exits_2_with_path(tmp_path):
    cfg = config_file(tmp_path)
    data = yaml.safe_load(cfg.read_text())
    data["audit"][0]["config"]["fsynk"] = "batch"
    cfg.write_text(yaml.safe_dump(data))
    result = aegis("run", "-c", str(cfg))
    assert result.returncode == 2
    assert "audit[0] (jsonl): fsynk: Extra inputs are not permitted" in result.stderr


def test_keys_sign_verify_ceremony_round_trip(tmp_path):
    cfg = config_file(tmp_path)
    artefact = tmp_path / "verification_key.bin"
    artefact.write_bytes(b"\x00\x01verification key bytes" * 40)
    sig, pub = tmp_path / "verification_key.sig", tmp_path / "audit.pub"
    signed = aegis("keys", "sign", str(artefact), "--out", str(sig), "-c", str(cfg))
    assert signed.returncode == 0, signed.stderr
    assert aegis("keys", "public-key", "--out", str(pub), "-c", str(cfg)).returncode == 0
    ok = aegis("keys", "verify", str(artefact), str(sig), "--public-key", str(pub))
    assert ok.returncode == 0 and "Signature OK" in ok.stdout
    artefact.write_bytes(artefact.read_bytes() + b"tampered")
    bad = aegis("keys", "verify", str(artefact), str(sig), "--public-key", str(pub))
    assert bad.returncode == 1 and "Signature INVALID" in bad.stderr
