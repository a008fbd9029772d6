"""The SQLite sink: exact lines in WAL mode, one transaction per batch, idempotence on UETR,
crash safety under kill -9, tamper detection, read-only opening and online backup."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import orjson
import pytest
from aegis_audit_sqlite.backup import BackupError, backup
from aegis_audit_sqlite.database import APPLICATION_ID, PAGE_SIZE
from aegis_audit_sqlite.store import DuplicateRecordError
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aegis.audit_chain import ChainedRecord, split_line
from aegis.audit_verify import verify_trail
from aegis.cli import main as aegis_cli
from aegis.errors import PluginLoadError
from aegis.model import Reject
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions

HERE = Path(__file__).resolve().parent


def sink(db: Path, state: Path, **config) -> PluginHarness:
    return PluginHarness("audit", "sqlite", {"path": str(db), **config}, state)


def decisions_for(h: PluginHarness, n: int, seed: int):
    return PluginHarness.decisions(h.batch(transactions(n, seed=seed)))


def query(db: Path, sql: str, *args) -> list[tuple]:
    """Out of band: straight through sqlite3, not through the plugin."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, args).fetchall()


def change(db: Path, script: str) -> None:
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(script)


def stored_lines(db: Path) -> list[bytes]:
    return [bytes(line) for (line,) in query(db, "SELECT line FROM records ORDER BY seq")]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "audit" / "aegis_audit.db"


@pytest.fixture
def written(db, tmp_path):
    """90 records in three batches, sealed; returns (decisions list, public key PEM, private key)."""
    with sink(db, tmp_path / "s") as h:
        h.trail(checkpoint_every=40)
        batches = [decisions_for(h, 30, seed) for seed in (1, 2, 3)]
        for d in batches:
            h.audit(d)
        pem, key = h.public_key_pem, h.signing_key
    return batches, pem, key


def test_lines_stored_byte_for_byte_in_a_wal_database_indexed_by_uetr(db, written):
    batches, _, _ = written
    rows = query(db, "SELECT seq, uetr, decision, hash, line FROM records ORDER BY seq")
    expected = [line for d in batches for line in d.lines()]
    assert [split_line(bytes(r[4]))[0] for r in rows] == expected
    assert [r[0] for r in rows] == list(range(1, 91))
    for seq, uetr, decision, digest, line in rows:
        record, chain = split_line(bytes(line))
        parsed = orjson.loads(record)
        assert (uetr, decision, digest, seq) == (parsed["uetr"], parsed["decision"], chain["hash"], chain["seq"])
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    assert query(db, "PRAGMA page_size") == [(PAGE_SIZE,)]
    assert query(db, "PRAGMA application_id") == [(APPLICATION_ID,)]
    plan = " ".join(str(r) for r in query(
        db, "EXPLAIN QUERY PLAN SELECT uetr FROM records WHERE uetr IN (SELECT value FROM json_each(?))", "[]"))
    assert "records_uetr" in plan  # known() is answered by the unique index, not a table scan
    assert stat.S_IMODE(db.stat().st_mode) == 0o640 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_idempotent_on_uetr_across_restarts_over_the_whole_history(db, tmp_path, written):
    batches, _, key = written
    with sink(db, tmp_path / "s") as h:
        h.signing_key = key
        fresh = decisions_for(h, 10, 9)
        mixed = h.batch(transactions(30, seed=1)[:5] + transactions(10, seed=9))  # 5 old + the 10 fresh
        h.audit(batches[0])  # the oldest batch, re-delivered after a restart: nothing written
        h.audit(PluginHarness.decisions(mixed))
        h.audit(fresh)
        assert h.trail().sinks[0].duplicates_skipped == 30 + 5 + 10
        assert h.plugin.written == 10
    uetrs = [u for (u,) in query(db, "SELECT uetr FROM records ORDER BY seq")]
    assert uetrs == [u for d in batches for u in d.uetr] + fresh.uetr
    assert query(db, "SELECT count(*), count(DISTINCT uetr) FROM records") == [(100, 100)]


def test_the_unique_index_refuses_a_second_record_and_the_batch_stays_whole(db, tmp_path, written):
    batches, _, _ = written
    with sink(db, tmp_path / "s2") as h:
        h.trail()
        new = decisions_for(h, 4, 20)
        records = h.trail().sinks[0].chain.extend(new.uetr, ["CLEAR"] * 4, new.lines())
        last = records[3]
        replayed = [*records[:3], ChainedRecord(batches[1].uetr[7], last.seq, last.hash, last.decision, last.line)]
        with pytest.raises(DuplicateRecordError) as excinfo:  # the kernel's known() check bypassed
            h.call("aegis_audit_write", decisions=new, records=replayed)
        h._trail = None  # the trail's in-memory chain ran ahead; nothing to seal
    assert batches[1].uetr[7] in str(excinfo.value) and str(db) in str(excinfo.value)
    assert query(db, "SELECT count(*) FROM records") == [(90,)]  # none of the 4 rows: one transaction


def test_kill_9_mid_write_keeps_every_acknowledged_batch_and_no_partial_one(db, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    batches, size = 30, 400
    db.parent.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(db), str(key_file),
                              str(batches), str(size)], stdout=subprocess.PIPE, text=True)
    acked = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("ACK "):
                acked = int(line.split()[1])
                if acked >= 6 * size:
                    child.send_signal(signal.SIGKILL)  # while it writes the next batch
                    break
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL and acked == 6 * size
    assert db.with_name(db.name + "-wal").exists()  # the crash left the log for recovery

    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with sink(db, tmp_path / "ro", read_only=True) as h:  # as `aegis audit verify` would, before any restart
        lines = list(h.call("aegis_audit_scan", after_seq=0))
        report = verify_trail(lines, h.call("aegis_audit_checkpoints"), pem)
    assert report.ok, [str(f) for f in report.findings]
    count = len(lines)
    assert query(db, "SELECT count(*), max(seq) FROM records") == [(count, count)]
    assert count >= acked and count % size == 0  # every acknowledged batch, and whole batches only

    with sink(db, tmp_path / "state") as h:  # restart: unsealed records are sealed, the source re-delivers
        h.signing_key = key
        h.trail(checkpoint_every=3 * size // 2)
        work = transactions(batches * size, seed=11)
        for i in range(batches):
            h.audit(PluginHarness.decisions(h.batch(work[i * size:(i + 1) * size])))
        lines = list(h.call("aegis_audit_scan", after_seq=0))
        h.trail().seal()
        report = verify_trail(lines, h.call("aegis_audit_checkpoints"), h.public_key_pem)
    assert report.ok and report.records == batches * size == report.sealed_through
    assert [orjson.loads(line)["uetr"] for line in lines] == [t["uetr"] for t in work]


@pytest.mark.parametrize(("tamper", "kind", "position"), [
    ("UPDATE records SET line = replace(line, '\"origin\":\"conformance:', '\"origin\":\"forged:') WHERE seq = 17",
     "modified", 17),
    ("DELETE FROM records WHERE seq = 40", "deleted", 40),
    ("UPDATE records SET seq = -seq WHERE seq IN (50, 51); UPDATE records SET seq = 51 WHERE seq = -50; "
     "UPDATE records SET seq = 50 WHERE seq = -51", "reordered", 50),
    ("INSERT INTO records SELECT 91, 'forged', decision, hash, line FROM records WHERE seq = 5", "inserted", 91),
])
def test_tampering_out_of_band_is_found_at_its_position(db, tmp_path, written, tamper, kind, position):
    _, pem, _ = written
    change(db, tamper)
    key_file = tmp_path / "audit.pub.pem"
    key_file.write_bytes(pem)
    result = CliRunner().invoke(aegis_cli, ["audit", "verify", "--sink", f"sqlite:{db}", "--public-key",
                                            str(key_file)])
    assert result.exit_code == 1, result.output
    assert "TAMPERED" in result.output
    assert f"{kind.upper()} at record {position}" in result.output


def test_untouched_database_verifies_with_the_cli_and_read_only_changes_nothing(db, tmp_path, written):
    _, pem, _ = written
    key_file = tmp_path / "audit.pub.pem"
    key_file.write_bytes(pem)
    before = db.read_bytes()
    result = CliRunner().invoke(aegis_cli, ["audit", "verify", "--sink", f"sqlite:{db}", "--public-key",
                                            str(key_file)])
    assert result.exit_code == 0, result.output
    assert "OK: 90 records, 2 checkpoints, sealed through seq 90" in result.output
    assert db.read_bytes() == before


def test_read_only_refuses_writes_and_a_missing_file(db, tmp_path, written):
    batches, _, _ = written
    with sink(db, tmp_path / "ro", read_only=True) as h:
        assert h.call("aegis_audit_lookup", uetr=batches[2].uetr[0])["chain"]["seq"] == 61
        assert len(list(h.call("aegis_audit_scan", after_seq=85))) == 5
        with pytest.raises(PermissionError, match="read-only"):
            h.call("aegis_audit_dead_letter", rejects=[Reject("x:1", "bad", b"{}")])
        assert [r.check for r in h.host.self_test()] == ["database intact"]
    missing = tmp_path / "nowhere" / "audit.db"
    with pytest.raises(PluginLoadError, match="does not exist"), sink(missing, tmp_path / "ro2", read_only=True):
        pass
    assert not missing.parent.exists()


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    other = tmp_path / "other.db"
    change(other, "CREATE TABLE t (x)")
    with pytest.raises(PluginLoadError, match="not an Aegis audit database"), sink(other, tmp_path / "s"):
        pass
    text = tmp_path / "notes.db"
    text.write_text("hello, this is not a database at all, just some text long enough\n" * 10)
    with pytest.raises(PluginLoadError, match="not a SQLite database"), sink(text, tmp_path / "s"):
        pass


def test_scan_reads_one_snapshot_while_writes_go_on(db, tmp_path):
    with sink(db, tmp_path / "s") as h:
        h.audit(decisions_for(h, 50, 1))
        scan = iter(h.call("aegis_audit_scan", after_seq=0))
        first = [next(scan) for _ in range(10)]
        h.audit(decisions_for(h, 50, 2))
        rest = list(scan)
        assert len(first) + len(rest) == 50
        assert len(list(h.call("aegis_audit_scan", after_seq=0))) == 100


def test_lookup_and_dead_letters_keep_their_bytes(db, tmp_path):
    rejects = [Reject("feed.jsonl:9", "not JSON", b"\xff\xfe\x00", uetr="0b7cef73-599f-54dd-9fab-605fe9dbe511"),
               Reject("feed.csv:4", "the row has 3 cells but the header has 6", b"a,b,c")]
    with sink(db, tmp_path / "s") as h:
        decisions = decisions_for(h, 20, 4)
        h.audit(decisions)
        found = h.call("aegis_audit_lookup", uetr=decisions.uetr[11].upper())
        h.call("aegis_audit_dead_letter", rejects=rejects)
        assert h.call("aegis_audit_lookup", uetr="00000000-0000-4000-8000-000000000000") is None
    assert {k: v for k, v in found.items() if k != "chain"} == orjson.loads(decisions.lines()[11])
    rows = query(db, "SELECT origin, reason, uetr, payload, received_at FROM dead_letters ORDER BY id")
    assert [r[:4] for r in rows] == [(r.origin, r.reason, r.uetr, r.payload) for r in rejects]
    assert rows[0][4].endswith("Z")


def _corrupt_index(db: Path, uetr: str) -> None:
    """Change one character of ``uetr`` inside the UETR index's page, behind SQLite's back (the database
    is closed and its WAL checkpointed): the table and its index no longer agree."""
    (root,) = query(db, "SELECT rootpage FROM sqlite_master WHERE name = 'records_uetr'")[0]
    with open(db, "r+b") as f:
        f.seek((root - 1) * PAGE_SIZE)
        page = bytearray(f.read(PAGE_SIZE))
        at = page.index(uetr.encode())
        page[at] = ord("0") if page[at] != ord("0") else ord("1")
        f.seek((root - 1) * PAGE_SIZE)
        f.write(page)


def test_backup_while_writing_is_a_standalone_intact_copy_that_verifies(db, tmp_path):
    dest = tmp_path / "backups" / "aegis_audit_20260105.db"
    with sink(db, tmp_path / "s") as h:
        h.trail(checkpoint_every=25)
        for seed in range(4):
            h.audit(decisions_for(h, 25, seed))
        report = backup(db, dest)  # the sink is open; its WAL holds the records
        h.audit(decisions_for(h, 25, 9))  # writing goes on; the backup is the earlier snapshot
        pem = h.public_key_pem
    assert (report.records, report.last_seq, report.checkpoints, report.integrity) == (100, 100, 4, "ok")
    assert report.bytes == dest.stat().st_size == report.pages * PAGE_SIZE
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no -wal, no partial file
    assert query(dest, "PRAGMA integrity_check") == [("ok",)]
    with sink(dest, tmp_path / "ro", read_only=True) as copy:
        verified = verify_trail(copy.call("aegis_audit_scan", after_seq=0), copy.call("aegis_audit_checkpoints"),
                                pem)
    assert verified.ok and verified.sealed_through == 100
    with pytest.raises(BackupError, match="already exists"):
        backup(db, dest)


def test_backup_of_a_damaged_database_fails_its_integrity_check_and_writes_nothing(db, tmp_path, written):
    _corrupt_index(db, written[0][0].uetr[3])
    dest = tmp_path / "backups" / "copy.db"
    with pytest.raises(BackupError, match="integrity_check failed") as excinfo:
        backup(db, dest)
    assert "records_uetr" in str(excinfo.value)
    assert list(dest.parent.iterdir()) == []


def test_self_test_reports_a_damaged_page(db, tmp_path, written):
    (root,) = query(db, "SELECT rootpage FROM sqlite_master WHERE name = 'records'")[0]
    with open(db, "r+b") as f:
        f.seek((root - 1) * PAGE_SIZE)
        f.write(b"\x0d\xff" * (PAGE_SIZE // 2))
    with sink(db, tmp_path / "ro", read_only=True) as h:
        [result] = h.host.self_test()
    assert result.check == "database intact" and not result.ok and "malformed" in result.detail


def test_backup_command_finds_the_database_in_the_deployment(db, tmp_path, written):
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(f"""
secrets: {{plugin: env}}
ingress: [{{plugin: file, config: {{path: in.jsonl}}}}]
scoring: [{{plugin: rules}}]
audit:
  - plugin: jsonl
  - plugin: sqlite
    config: {{path: "{db}"}}
""")
    runner = CliRunner()
    result = runner.invoke(aegis_cli, ["audit", "backup", str(tmp_path / "b1.db"), "-c", str(deployment)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "90 records" in result.output and "integrity_check: ok" in result.output
    result = runner.invoke(aegis_cli, ["audit", "backup", str(tmp_path / "b2.db"), "--source", str(db)])
    assert result.exit_code == 0 and (tmp_path / "b2.db").exists()
    result = runner.invoke(aegis_cli, ["audit", "backup", str(tmp_path / "b2.db"), "--source", str(db)])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(aegis_cli, ["audit", "backup", str(tmp_path / "b3.db")])
    assert result.exit_code == 2 and "either -c" in result.output


def test_the_audit_backup_subcommand_is_published_for_the_kernel_audit_group():
    from importlib.metadata import entry_points
    [ep] = [ep for ep in entry_points(group="aegis.audit.commands") if ep.name == "backup"]
    command = ep.load()
    assert command.name == "backup" and [p.name for p in command.params] == ["dest", "config_path", "source"]
