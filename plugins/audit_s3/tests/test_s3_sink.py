"""The S3 sink against a real S3-compatible server: object layout, write-once keys, Object Lock,
strict and permissive buckets, tamper detection, restarts, the idempotence window, lookups."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aegis_audit_s3.errors import BucketNotImmutable, KeyConflict, S3AuditError
from botocore.exceptions import ClientError

from aegis.audit_chain import split_line
from aegis.audit_verify import verify_trail
from aegis.model import Reject
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions

PREFIX = "audit/eu-1"


def decisions_for(h: PluginHarness, n: int, seed: int):
    return PluginHarness.decisions(h.batch(transactions(n, seed=seed)))


def sink(config: dict, tmp_path, security_mode: str = "strict") -> PluginHarness:
    return PluginHarness("audit", "s3", config, tmp_path / "state", security_mode=security_mode)


def error_of(excinfo: pytest.ExceptionInfo) -> tuple[str, int]:
    exc = excinfo.value
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def verify(h: PluginHarness):
    return verify_trail(list(h.call("aegis_audit_scan", after_seq=0)), h.call("aegis_audit_checkpoints"),
                        h.public_key_pem)


# -- layout ---------------------------------------------------------------------------------------


def test_each_batch_is_one_object_keyed_by_its_first_seq_with_the_exact_lines(oob, locked_bucket, tmp_path):
    with sink(oob.config(locked_bucket), tmp_path) as h:
        h.trail(checkpoint_every=1_000_000)
        first, second = decisions_for(h, 50, 1), decisions_for(h, 20, 2)
        h.audit(first)
        h.audit(second)
    keys = oob.keys(locked_bucket, f"{PREFIX}/records/")
    assert keys == [f"{PREFIX}/records/000000000001.jsonl", f"{PREFIX}/records/000000000051.jsonl"]
    bodies = [split_line(line)[0] for line in oob.lines(locked_bucket, f"{PREFIX}/records/")]
    assert bodies == first.lines() + second.lines()  # the kernel's bytes, never re-serialised
    head = oob.client.head_object(Bucket=locked_bucket, Key=keys[1])
    assert head["ContentType"] == "application/x-ndjson"
    assert head["Metadata"] == {"aegis-first-seq": "51", "aegis-last-seq": "70", "aegis-records": "20"}
    # the checkpoint sealed at shutdown: named by the last seq it covers
    assert oob.keys(locked_bucket, f"{PREFIX}/checkpoints/") == [f"{PREFIX}/checkpoints/000000000070.json"]


# -- never overwrite ------------------------------------------------------------------------------


def test_conditional_put_refuses_to_overwrite_a_stored_object(oob, locked_bucket, tmp_path):
    with sink(oob.config(locked_bucket), tmp_path) as h:
        h.audit(decisions_for(h, 10, 1))
    key = f"{PREFIX}/records/000000000001.jsonl"
    before = oob.body(locked_bucket, key)
    with pytest.raises(ClientError) as excinfo:
        oob.client.put_object(Bucket=locked_bucket, Key=key, Body=b'{"forged": true}\n', IfNoneMatch="*")
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    assert oob.body(locked_bucket, key) == before


def test_a_second_writer_on_the_same_prefix_is_refused_and_nothing_is_overwritten(oob, locked_bucket, tmp_path):
    config = oob.config(locked_bucket)
    with sink(config, tmp_path / "a") as first, sink(config, tmp_path / "b") as second:
        first.trail(), second.trail()  # both continue from the same (empty) chain
        first.audit(decisions_for(first, 10, 1))
        with pytest.raises(KeyConflict, match="another writer uses this bucket and prefix"):
            second.audit(decisions_for(second, 5, 2))
        first.trail().seal()
        report = verify(first)
    assert report.ok and report.records == 10
    stored = oob.json_lines(locked_bucket, f"{PREFIX}/records/")
    assert [r["chain"]["seq"] for r in stored] == list(range(1, 11))


def test_a_retried_put_with_the_same_bytes_is_accepted_different_bytes_are_not(oob, locked_bucket, tmp_path):
    with sink(oob.config(locked_bucket), tmp_path) as h:
        store = h.plugin.store
        key = f"{PREFIX}/records/000000000001.jsonl"
        store.put_new(key, b"line\n", "application/x-ndjson")
        store.put_new(key, b"line\n", "application/x-ndjson")  # the response of the first was "lost"
        assert store.retried_puts == 1
        with pytest.raises(KeyConflict, match=key):
            store.put_new(key, b"other\n", "application/x-ndjson")
    assert oob.body(locked_bucket, key) == b"line\n"


# -- object lock ----------------------------------------------------------------------------------


def test_every_object_is_retained_in_compliance_mode_and_cannot_be_deleted(oob, locked_bucket, tmp_path):
    written_at = datetime.now(UTC)
    with sink(oob.config(locked_bucket, object_lock={"mode": "COMPLIANCE", "retain_days": 3}), tmp_path) as h:
        h.audit(decisions_for(h, 10, 1))
        h.call("aegis_audit_dead_letter", rejects=[Reject("feed:1", "not JSON", b"{")])
    keys = oob.keys(locked_bucket, PREFIX)
    assert {k.split("/")[2] for k in keys} == {"records", "checkpoints", "dead-letters"}
    for key in keys:
        head = oob.client.head_object(Bucket=locked_bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE", key
        until = head["ObjectLockRetainUntilDate"]
        assert abs(until - (written_at + timedelta(days=3))) < timedelta(minutes=2), (key, until)
        with pytest.raises(ClientError) as excinfo:
            oob.client.delete_object(Bucket=locked_bucket, Key=key, VersionId=head["VersionId"])
        assert error_of(excinfo)[0] == "AccessDenied"
    assert len(oob.keys(locked_bucket, PREFIX)) == len(keys)


def test_strict_mode_refuses_a_bucket_without_object_lock(oob, plain_bucket, tmp_path):
    with pytest.raises(BucketNotImmutable) as excinfo, sink(oob.config(plain_bucket), tmp_path):
        pass
    message = str(excinfo.value)
    assert plain_bucket in message and "has no Object Lock" in message and "strict" in message
    assert oob.keys(plain_bucket, "") == []


def test_permissive_mode_warns_and_writes_without_retention(oob, plain_bucket, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="aegis.audit.s3"), \
            sink(oob.config(plain_bucket), tmp_path, security_mode="permissive") as h:
        h.audit(decisions_for(h, 5, 1))
        checks = {r.check: r for r in h.host.self_test()}
    assert any("has no Object Lock" in r.message and "permissive" in r.message for r in caplog.records)
    key = oob.keys(plain_bucket, f"{PREFIX}/records/")[0]
    assert "ObjectLockMode" not in oob.client.head_object(Bucket=plain_bucket, Key=key)
    assert not checks["objects retained"].ok and "can be deleted" in checks["objects retained"].detail
    assert checks["existing keys are never overwritten (If-None-Match)"].ok


def test_locked_bucket_without_any_retention_is_refused_in_strict_mode(oob, locked_bucket, tmp_path):
    with pytest.raises(BucketNotImmutable, match="no default retention"), \
            sink(oob.config(locked_bucket, object_lock=None), tmp_path):
        pass


def test_the_buckets_default_retention_is_enough(oob, locked_bucket, tmp_path):
    oob.client.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2}}})
    with sink(oob.config(locked_bucket, object_lock=None), tmp_path) as h:
        h.audit(decisions_for(h, 5, 1))
        checks = {r.check: r for r in h.host.self_test()}
    assert checks["objects retained"].ok and "COMPLIANCE 2 days" in checks["objects retained"].detail


def test_a_missing_bucket_is_an_error_unless_create_bucket(oob, tmp_path):
    name = f"aegis-missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(S3AuditError, match=rf"bucket '{name}' does not exist .*create_bucket: true"), \
            sink(oob.config(name), tmp_path):
        pass
    with sink(oob.config(name, create_bucket=True), tmp_path) as h:
        h.audit(decisions_for(h, 3, 1))
    lock = oob.client.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    key = oob.keys(name, f"{PREFIX}/records/")[0]
    assert oob.client.head_object(Bucket=name, Key=key)["ObjectLockMode"] == "COMPLIANCE"


# -- tamper evidence ------------------------------------------------------------------------------


def test_an_object_replaced_or_deleted_out_of_band_is_found_by_verification(oob, plain_bucket, tmp_path):
    """Without Object Lock an attacker with write rights can replace or delete objects: the chain shows it."""
    with sink(oob.config(plain_bucket), tmp_path, security_mode="permissive") as h:
        for seed in range(3):
            h.audit(decisions_for(h, 10, seed))
        h.trail().seal()
        assert verify(h).ok
        second = f"{PREFIX}/records/000000000011.jsonl"
        lines = oob.body(plain_bucket, second).splitlines()
        lines[3] = lines[3].replace(b'"decision":"', b'"decision":"X', 1)  # record seq 14 altered
        oob.client.put_object(Bucket=plain_bucket, Key=second, Body=b"\n".join(lines) + b"\n")
        report = verify(h)
        assert [(f.kind, f.position, f.seq) for f in report.findings if f.position] == [("modified", 14, 14)]
        oob.client.delete_object(Bucket=plain_bucket, Key=second)
        kinds = {(f.kind, f.seq) for f in verify(h).findings}
    assert ("deleted", 21) in kinds  # records 11..20 are gone before seq 21


def test_unsealed_records_of_a_crashed_run_are_sealed_and_the_chain_continues(oob, locked_bucket, tmp_path):
    config = oob.config(locked_bucket)
    with pytest.raises(RuntimeError, match="crash"), sink(config, tmp_path) as h:  # no seal on the way out
        h.trail(checkpoint_every=1_000_000)
        h.audit(decisions_for(h, 20, 1))
        key = h.signing_key
        raise RuntimeError("crash")
    assert oob.keys(locked_bucket, f"{PREFIX}/checkpoints/") == []
    with sink(config, tmp_path) as h:
        h.signing_key = key
        h.trail()  # opening the trail seals records 1..20
        assert oob.keys(locked_bucket, f"{PREFIX}/checkpoints/") == [f"{PREFIX}/checkpoints/000000000020.json"]
        h.audit(decisions_for(h, 15, 2))
        h.trail().seal()
        head = h.call("aegis_audit_head")
        report = verify(h)
    assert (head.seq, head.checkpoint_seq) == (35, 35)
    assert report.ok and report.records == 35 and report.checkpoints == 2 and report.sealed_through == 35


# -- finding objects by seq -----------------------------------------------------------------------


def test_last_and_floor_search_by_seq_agree_with_a_full_listing(oob, locked_bucket, tmp_path):
    sizes = [1 + (i * 7) % 5 for i in range(40)]  # 40 objects of 1..5 records
    with sink(oob.config(locked_bucket), tmp_path) as h:
        h.trail(checkpoint_every=1_000_000)
        for i, n in enumerate(sizes):
            h.audit(decisions_for(h, n, 100 + i))
        index = h.plugin.records
        index.page_size = 4  # force galloping and bisection instead of one page
        starts = [sum(sizes[:i]) + 1 for i in range(len(sizes))]
        index.requests = 0
        assert index.last() == starts[-1]
        assert index.requests <= 16
        for seq in range(0, sum(sizes) + 4):
            expected = max((s for s in starts if s <= seq), default=None)
            assert index.floor(seq) == expected, seq
        assert list(index.seqs_from(starts[7])) == starts[7:]
        everything = list(h.call("aegis_audit_scan", after_seq=0))
        for after in (0, 1, 2, 13, 57, sum(sizes) - 1, sum(sizes)):
            tail = list(h.call("aegis_audit_scan", after_seq=after))
            assert tail == everything[after:], after


# -- idempotence window ---------------------------------------------------------------------------


def test_redelivery_is_skipped_within_the_dedupe_window_across_restarts(oob, locked_bucket, tmp_path):
    config = oob.config(locked_bucket, dedupe_tail=10)
    with sink(config, tmp_path) as h:
        batches = [decisions_for(h, 10, seed) for seed in range(3)]
        for batch in batches:
            h.audit(batch)
    with sink(config, tmp_path) as h:
        assert len(h.plugin.recent) == 10
        assert h.call("aegis_audit_known", uetrs=batches[2].uetr) == set(batches[2].uetr)
        h.audit(batches[2])  # re-delivered: skipped
        h.audit(batches[0])  # beyond the window of 10: written again, as documented
    uetrs = [r["uetr"] for r in oob.json_lines(locked_bucket, f"{PREFIX}/records/")]
    assert uetrs == batches[0].uetr + batches[1].uetr + batches[2].uetr + batches[0].uetr


def test_lookup_finds_records_outside_the_recent_window(oob, locked_bucket, tmp_path):
    config = oob.config(locked_bucket, dedupe_tail=5)
    with sink(config, tmp_path) as h:
        batches = [decisions_for(h, 8, seed) for seed in range(3)]
        for batch in batches:
            h.audit(batch)
    with sink(config, tmp_path) as h:
        old = batches[0].uetr[2]
        assert old not in h.plugin.recent
        found = h.call("aegis_audit_lookup", uetr=old.upper())
        assert found["uetr"] == old and found["chain"]["seq"] == 3
        recent = batches[2].uetr[-1]
        assert h.call("aegis_audit_lookup", uetr=recent)["chain"]["seq"] == 24


# -- dead letters, read-only, config --------------------------------------------------------------


def test_dead_letters_keep_binary_payloads_as_base64(oob, locked_bucket, tmp_path):
    with sink(oob.config(locked_bucket), tmp_path) as h:
        h.call("aegis_audit_dead_letter", rejects=[Reject("zmq:7", "not JSON", b"\xff\xfe", uetr=None)])
        h.call("aegis_audit_dead_letter", rejects=[])
    [stored] = oob.json_lines(locked_bucket, f"{PREFIX}/dead-letters/")
    assert stored["payload_encoding"] == "base64" and base64.b64decode(stored["payload"]) == b"\xff\xfe"
    assert stored["origin"] == "zmq:7" and stored["received_at"].endswith("Z")


def test_read_only_opens_by_path_and_refuses_writes(oob, locked_bucket, tmp_path):
    with sink(oob.config(locked_bucket), tmp_path) as h:
        decisions = decisions_for(h, 12, 1)
        h.audit(decisions)
    reader = {k: v for k, v in oob.config(locked_bucket).items() if k not in ("bucket", "prefix", "object_lock")}
    with sink({**reader, "path": f"s3://{locked_bucket}/{PREFIX}", "read_only": True}, tmp_path) as r:
        assert len(list(r.call("aegis_audit_scan", after_seq=0))) == 12
        assert r.call("aegis_audit_lookup", uetr=decisions.uetr[4])["uetr"] == decisions.uetr[4]
        with pytest.raises(PermissionError, match="read-only"):
            r.call("aegis_audit_dead_letter", rejects=[Reject("x", "y", b"z")])


def test_cli_verifies_an_s3_sink_by_path(oob, locked_bucket, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from aegis.cli import main
    with sink(oob.config(locked_bucket), tmp_path) as h:
        h.audit(decisions_for(h, 30, 1))
        h.trail().seal()
        (tmp_path / "audit.pem").write_bytes(h.public_key_pem)
    config = oob.config(locked_bucket)
    env = {"AWS_ENDPOINT_URL": config["endpoint_url"], "AWS_ACCESS_KEY_ID": config["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": config["secret_access_key"], "AWS_DEFAULT_REGION": "us-east-1"}
    result = CliRunner().invoke(main, ["audit", "verify", "--sink", f"s3:s3://{locked_bucket}/{PREFIX}",
                                       "--public-key", str(tmp_path / "audit.pem")], env=env)
    assert result.exit_code == 0, result.output
    assert "OK: 30 records, 1 checkpoints, sealed through seq 30" in result.output


def test_config_locations_and_credentials(oob):
    from aegis_audit_s3.config import S3AuditConfig
    from pydantic import ValidationError
    config = S3AuditConfig.model_validate({"path": "s3://audit-archive/eu/prod/", **{
        "access_key_id": "AKIAEXAMPLE", "secret_access_key": "very-secret"}})
    assert (config.bucket, config.prefix, config.location) == ("audit-archive", "eu/prod", "s3://audit-archive/eu/prod")
    assert "very-secret" not in repr(config) and "very-secret" not in str(config.model_dump())
    with pytest.raises(ValidationError, match="not a valid S3 bucket name"):
        S3AuditConfig.model_validate({"bucket": "Audit_Logs"})
    with pytest.raises(ValidationError, match="give both or neither"):
        S3AuditConfig.model_validate({"bucket": "audit-logs", "access_key_id": "AKIAEXAMPLE"})
    with pytest.raises(ValidationError, match="bucket is required"):
        S3AuditConfig.model_validate({})
    assert S3AuditConfig.model_validate({"bucket": "a-b", "prefix": "/x/y/"}).prefix == "x/y"
