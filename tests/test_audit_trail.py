"""Tamper evidence end to end: a real run writes a chained JSONL log; `aegis audit verify` finds
every modification, deletion, insertion and reordering, and a bad signature."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from aegis.config import parse_outline
from aegis.deployment import started
from aegis.errors import SecretNotFound
from aegis.pipeline import Pipeline
from aegis.testing.samples import transactions

from .conftest import deployment

AEGIS = str(Path(sys.executable).with_name("aegis"))


@pytest.fixture
def trail(tmp_path):
    """A 300-record audit log from a real run (checkpoints every 100), and the signing public key."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in transactions(300, seed=17)))
    data = deployment(tmp_path, source, audit_trail={"checkpoint_every": 100})
    data["pipeline"]["batch_size"] = 50
    config = parse_outline(data)
    with started(config) as host:
        Pipeline(host, config).run()
        pem = host.public_key("audit")
    public_key = tmp_path / "audit.pub"
    public_key.write_bytes(pem)
    return tmp_path / "audit" / "audit.jsonl", public_key


def verify(log: Path, public_key: Path | None) -> subprocess.CompletedProcess:
    args = [AEGIS, "audit", "verify", "--sink", f"jsonl:{log}"]
    if public_key:
        args += ["--public-key", str(public_key)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ})


def rewrite(log: Path, change) -> None:
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"".join(line + b"\n" for line in change(lines)))


def test_untouched_log_verifies(trail):
    log, key = trail
    result = verify(log, key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 300 records" in result.stdout and "sealed through seq 300" in result.stdout


def test_modified_record_is_located(trail):
    log, key = trail

    def change(lines):
        record = orjson.loads(lines[41])
        record["decision"] = "CLEAR" if record["decision"] != "CLEAR" else "BLOCK"
        lines[41] = orjson.dumps(record)
        return lines
    rewrite(log, change)
    result = verify(log, key)
    assert result.returncode == 1
    assert "MODIFIED at record 42 (seq 42)" in result.stdout
    assert "seq 1..100: Merkle root does not match" in result.stdout


def test_deleted_record_is_located(trail):
    log, key = trail
    rewrite(log, lambda lines: lines[:150] + lines[151:])
    result = verify(log, key)
    assert result.returncode == 1
    assert "DELETED at record 151 (seq 152): records seq 151..151 are missing" in result.stdout


def test_inserted_record_is_located(trail):
    log, key = trail
    rewrite(log, lambda lines: [*lines[:200], lines[10], *lines[200:]])
    result = verify(log, key)
    assert result.returncode == 1
    assert "INSERTED at record 201 (seq 11): seq 11 stored after seq 200 again (a copy)" in result.stdout


def test_reordered_records_are_located(trail):
    log, key = trail
    rewrite(log, lambda lines: [*lines[:60], lines[61], lines[60], *lines[62:]])
    result = verify(log, key)
    assert result.returncode == 1
    assert "REORDERED at record 61 (seq 62): stored before seq 61" in result.stdout
    assert "REORDERED at record 62 (seq 61)" in result.stdout
    assert "DELETED" not in result.stdout


def test_forged_checkpoint_signature(trail):
    log, key = trail
    checkpoints = log.with_name("audit.checkpoints.jsonl")
    rows = [orjson.loads(x) for x in checkpoints.read_bytes().splitlines()]
    rows[1]["merkle_root"] = "0" * 64
    checkpoints.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result = verify(log, key)
    assert result.returncode == 1
    assert "SIGNATURE at checkpoint: seq 101..200: signature does not verify" in result.stdout


def test_wrong_public_key_fails_every_checkpoint(trail, tmp_path):
    log, _ = trail
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    other = tmp_path / "other.pub"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    result = verify(log, other)
    assert result.returncode == 1 and result.stdout.count("SIGNATURE at checkpoint") == 3


def test_removed_checkpoint_is_reported(trail):
    log, key = trail
    checkpoints = log.with_name("audit.checkpoints.jsonl")
    rows = checkpoints.read_bytes().splitlines()
    checkpoints.write_bytes(rows[0] + b"\n" + rows[2] + b"\n")
    result = verify(log, key)
    assert result.returncode == 1
    assert "does not link to the previous checkpoint" in result.stdout


def test_torn_tail_is_reported_read_only_then_repaired_on_restart(trail, tmp_path):
    log, key = trail
    whole = log.read_bytes()
    log.write_bytes(whole + b'{"uetr":"torn-by-kill-9","decis')
    result = verify(log, key)
    assert result.returncode == 1 and "UNREADABLE at record 301" in result.stdout
    assert log.read_bytes().endswith(b'"decis'), "verification must not modify the log"
    # restarting the sink repairs the torn tail; the verified prefix holds every acknowledged record
    from aegis.testing.harness import PluginHarness
    with PluginHarness("audit", "jsonl", {"path": str(log)}, tmp_path / "s"):
        pass
    assert log.read_bytes() == whole
    assert verify(log, key).returncode == 0


def export(tmp_path: Path, config: Path, uetr: str, *extra: str) -> subprocess.CompletedProcess:
    out = tmp_path / "export.json"
    return subprocess.run([sys.executable, "-m", "aegis.regulatory_export", "--uetr", uetr, "--output", str(out),
                           "-c", str(config), *extra], capture_output=True, text=True, timeout=60)


@pytest.fixture
def deployed(tmp_path, trail):
    """The deployment YAML that wrote ``trail``, and the UETRs it decided."""
    import yaml
    source = tmp_path / "in.jsonl"
    data = deployment(tmp_path, source, audit_trail={"checkpoint_every": 100})
    config = tmp_path / "aegis.yaml"
    config.write_text(yaml.safe_dump(data))
    uetrs = [orjson.loads(line)["uetr"] for line in source.read_bytes().splitlines()]
    return config, uetrs


def test_regulatory_export_round_trip(tmp_path, trail, deployed):
    log, key = trail
    config, uetrs = deployed
    result = export(tmp_path, config, uetrs[123].upper(), "--include-model-snapshot")
    assert result.returncode == 0, result.stderr
    doc = orjson.loads((tmp_path / "export.json").read_bytes())
    stored = orjson.loads(log.read_bytes().splitlines()[123])
    for field in ("uetr", "decision", "reason_code", "timestamp", "risk_factors", "sanctions_list_version",
                  "model_version_hash"):
        assert doc[field] == stored.get(field), field
    assert doc["zkp_proof_b64"] is None and doc["hsm_timestamp_signature"]
    assert doc["checkpoint"]["from_seq"] <= 124 <= doc["checkpoint"]["to_seq"]
    assert doc["model_snapshot"]["rules_version"].startswith("sha256:")
    ok = subprocess.run([AEGIS, "export", "verify", str(tmp_path / "export.json"), "--public-key", str(key)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "export verifies" in ok.stdout


@pytest.mark.parametrize("tamper, message", [
    (lambda d: d.update(decision="CLEAR" if d["decision"] != "CLEAR" else "BLOCK"), "decision: the export says"),
    (lambda d: d.update(record_line=d["record_line"].replace('"risk_score":', '"risk_score":0.0001+')),
     "record_line"),
    (lambda d: d["inclusion_proof"]["path"].reverse(), "inclusion proof"),
    (lambda d: d["checkpoint"].update(timestamp="2020-01-01T00:00:00Z"), "checkpoint signature"),
    (lambda d: d.update(timestamp="2020-01-01T00:00:00Z"), "timestamp"),
])
def test_tampered_export_fails_verification(tmp_path, trail, deployed, tamper, message):
    _, key = trail
    config, uetrs = deployed
    assert export(tmp_path, config, uetrs[42]).returncode == 0
    path = tmp_path / "export.json"
    doc = orjson.loads(path.read_bytes())
    tamper(doc)
    path.write_bytes(orjson.dumps(doc))
    bad = subprocess.run([AEGIS, "export", "verify", str(path), "--public-key", str(key)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "does NOT verify" in bad.stderr
    assert message in bad.stderr


def test_export_of_unknown_uetr_exits_2(tmp_path, trail, deployed):
    config, _ = deployed
    result = export(tmp_path, config, "00000000-0000-4000-8000-000000000000")
    assert result.returncode == 2
    assert "UETR 00000000-0000-4000-8000-000000000000 is not in any audit sink" in result.stderr


def test_grpc_get_transaction_audit_matches_the_cli_export(tmp_path, trail, deployed):
    import grpc

    from aegis.audit_service import serve
    from aegis.config import load_outline
    from aegis.proto import audit_pb2, audit_pb2_grpc
    config, uetrs = deployed
    assert export(tmp_path, config, uetrs[77], "--include-model-snapshot").returncode == 0
    cli = orjson.loads((tmp_path / "export.json").read_bytes())
    with started(load_outline(config), families=("secrets", "audit")) as host:
        server, port = serve(host, "127.0.0.1:0")
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = audit_pb2_grpc.RegulatoryAuditStub(channel)
                proof = stub.GetTransactionAudit(audit_pb2.AuditRequest(uetr=uetrs[77], include_model_snapshot=True))
                with pytest.raises(grpc.RpcError) as missing:
                    stub.GetTransactionAudit(audit_pb2.AuditRequest(uetr="00000000-0000-4000-8000-000000000000"))
        finally:
            server.stop(None)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    for field in ("uetr", "decision", "reason_code", "timestamp", "record_hash", "record_line", "sink",
                  "public_key_fingerprint"):
        assert getattr(proof, field) == cli[field], field
    assert proof.model_version_hash == (cli["model_version_hash"] or "")
    assert dict(proof.risk_factors) == pytest.approx(cli["risk_factors"])
    assert orjson.loads(proof.checkpoint_json) == cli["checkpoint"]
    assert list(proof.inclusion_proof.path) == cli["inclusion_proof"]["path"]
    assert orjson.loads(proof.model_snapshot_json) == cli["model_snapshot"]
    # the gRPC answer verifies offline exactly like a file export
    from aegis.regulatory_export import verify_export
    as_doc = {**cli, "hsm_timestamp_signature": proof.timestamp_signature}
    assert verify_export(as_doc, (tmp_path / "audit.pub").read_bytes()) == []


def test_verify_every_sink_of_a_deployment(trail, deployed):
    _, key = trail
    config, _ = deployed
    result = subprocess.run([AEGIS, "audit", "verify", "-c", str(config), "--public-key", str(key)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit[0] (jsonl): OK: 300 records, 3 checkpoints" in result.stdout


def test_compressed_archives_and_retention_keep_the_trail_provable(tmp_path):
    import time as clock

    def run_with(seed: int) -> None:
        source = tmp_path / f"in{seed}.jsonl"
        source.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in transactions(400, seed=seed)))
        data = deployment(tmp_path, source, audit_trail={"checkpoint_every": 50})
        data["pipeline"]["batch_size"] = 50
        data["audit"][0]["config"].update(rotate_bytes=60_000, compress_rotated=True, retention_days=1)
        config = parse_outline(data)
        with started(config) as host:
            Pipeline(host, config).run()
            (tmp_path / "audit.pub").write_bytes(host.public_key("audit"))

    run_with(1)
    directory = tmp_path / "audit"
    archives = sorted(directory.glob("audit.*.jsonl.gz"))
    assert archives and not list(directory.glob("audit.*[0-9].jsonl"))  # rotated files are compressed
    log, key = directory / "audit.jsonl", tmp_path / "audit.pub"
    assert verify(log, key).returncode == 0
    old = time_ago = clock.time() - 3 * 86400
    for path in archives:
        os.utime(path, (old, time_ago))
    run_with(2)  # its checkpoints apply the retention policy to the aged archives
    markers = [orjson.loads(x) for x in (directory / "audit.retention.jsonl").read_bytes().splitlines()]
    deleted = [n for m in markers for n in m["files"]]
    # only aged archives, oldest first, ending exactly at a checkpoint (names may be reused afterwards)
    assert deleted and deleted == [p.name for p in archives][:len(deleted)]
    result = verify(log, key)
    assert result.returncode == 0, result.stdout
    assert "deleted under a signed retention marker" in result.stdout
    # a file removed outside the policy is still a deletion
    kept = sorted(directory.glob("audit.*.jsonl.gz"))
    kept[0].unlink()
    tampered = verify(log, key)
    assert tampered.returncode == 1 and "DELETED" in tampered.stdout


def test_a_missing_signing_key_fails_the_start_not_the_first_checkpoint(tmp_path):
    """The trail signs once with the checkpoint key as it opens: without a usable key, nothing is
    screened and acknowledged that could never be sealed."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in transactions(20, seed=3)))
    data = deployment(tmp_path, source, audit_trail={"checkpoint_every": 1000})
    data["secrets"]["config"]["generate_missing_keys"] = False
    config = parse_outline(data)
    with started(config) as host:
        pipeline = Pipeline(host, config)
        with pytest.raises(SecretNotFound, match="signing key 'audit' not found"):
            pipeline.run()
        assert pipeline.summary.transactions == 0
    log = tmp_path / "audit" / "audit.jsonl"
    assert not log.exists() or log.read_bytes() == b""
