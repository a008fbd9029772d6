"""The JSONL sink: exact lines, one write per batch, fsync policies, idempotence, torn tails,
dead letters, rotation and lookup."""

from __future__ import annotations

import base64
import logging
import os
import re
import stat
import threading
import time
from itertools import chain
from pathlib import Path

import aegis_audit_jsonl.append_file as append_file
import orjson
import pytest
from aegis_audit_jsonl.recent import RecentUetrs

from aegis.audit_chain import split_line
from aegis.model import Reject
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def decisions_for(h: PluginHarness, n: int, seed: int):
    return PluginHarness.decisions(h.batch(transactions(n, seed=seed)))


def sink(tmp_path: Path, **config):
    return PluginHarness("audit", "jsonl", {"path": str(tmp_path / "audit" / "log.jsonl"), **config},
                         tmp_path / "state")


@pytest.fixture
def os_calls(monkeypatch):
    """Counts the sink's write and fsync system calls (they still happen)."""
    calls = {"write": 0, "sync": 0}
    real_write, real_sync = os.write, append_file._sync

    def write(fd, data):
        calls["write"] += 1
        return real_write(fd, data)

    def sync(fd):
        calls["sync"] += 1
        real_sync(fd)

    monkeypatch.setattr(append_file.os, "write", write)
    monkeypatch.setattr(append_file, "_sync", sync)
    return calls


def bodies(path) -> list[bytes]:
    """The stored lines without their chain member: the kernel's records, byte for byte."""
    return [split_line(line)[0] for line in path.read_bytes().splitlines()]


def test_records_are_the_kernel_lines_exactly_one_write_per_batch(tmp_path, os_calls):
    with sink(tmp_path) as h:
        h.trail(checkpoint_every=1_000_000)
        first, second = decisions_for(h, 50, 1), decisions_for(h, 20, 2)
        h.audit(first)
        h.audit(second)
        assert os_calls["write"] == 2
    log = tmp_path / "audit" / "log.jsonl"
    assert bodies(log) == first.lines() + second.lines()
    assert stat.S_IMODE(log.stat().st_mode) == 0o640 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_fsync_batch_syncs_before_every_write_returns(tmp_path, os_calls):
    with sink(tmp_path, fsync="batch") as h:
        for seed in range(3):
            h.audit(decisions_for(h, 5, seed))
            assert os_calls["sync"] == seed + 1
        h.call("aegis_audit_dead_letter", rejects=[Reject("x:1", "bad", b"{}")])
        assert os_calls["sync"] == 4


def test_fsync_interval_syncs_in_the_background_within_the_interval(tmp_path, os_calls):
    with sink(tmp_path, fsync="interval", fsync_interval=0.4) as h:
        first, second = decisions_for(h, 5, 1), decisions_for(h, 5, 2)
        written = time.monotonic()
        h.audit(first)
        h.audit(second)
        assert os_calls["sync"] == 0  # the writes themselves do not wait for the disk
        while os_calls["sync"] == 0 and time.monotonic() - written < 3:
            time.sleep(0.01)
        assert os_calls["sync"] == 1  # one background fsync covers both writes...
        assert time.monotonic() - written < 0.4 + 0.3  # ...within the interval (plus scheduling slack)
        time.sleep(0.5)
        assert os_calls["sync"] == 1  # nothing new written, nothing to sync


def test_fsync_interval_writes_a_checkpoint_after_its_records_are_durable(tmp_path, monkeypatch):
    """Under ``interval`` a seal waits for no disk: its checkpoint is written by the next background
    flush, after the fsync that made the records it covers durable (never on disk before them); one
    still waiting at shutdown is written then."""
    audit = tmp_path / "audit"
    events: list[tuple[str, str]] = []  # (what, file name), in order
    real_write, real_sync = os.write, append_file._sync

    def name(fd) -> str:
        return next(p.name for p in audit.iterdir() if p.stat().st_ino == os.fstat(fd).st_ino)

    def write(fd, data):
        events.append(("write", name(fd)))
        return real_write(fd, data)

    def sync(fd):
        events.append(("sync", name(fd)))
        real_sync(fd)

    monkeypatch.setattr(append_file.os, "write", write)
    monkeypatch.setattr(append_file, "_sync", sync)
    with sink(tmp_path, fsync="interval", fsync_interval=0.2) as h:
        h.trail(checkpoint_every=5)
        h.audit(decisions_for(h, 5, 1))  # sealed at once: 5 records
        assert ("write", "log.checkpoints.jsonl") not in events
        assert not any(what == "sync" for what, _ in events)  # nothing waited for the disk
        deadline = time.monotonic() + 5
        while ("write", "log.checkpoints.jsonl") not in events and time.monotonic() < deadline:
            time.sleep(0.01)
        first = events.index(("write", "log.checkpoints.jsonl"))
        assert ("sync", "log.jsonl") in events[:first]
        assert events[first + 1] == ("sync", "log.checkpoints.jsonl")
        events.clear()
        h.audit(decisions_for(h, 5, 2))  # a second checkpoint, still waiting when the sink stops
    assert events.index(("sync", "log.jsonl")) < events.index(("write", "log.checkpoints.jsonl"))
    checkpoints = [orjson.loads(line) for line in (audit / "log.checkpoints.jsonl").read_bytes().splitlines()]
    assert [(c["from_seq"], c["to_seq"]) for c in checkpoints] == [(1, 5), (6, 10)]


def test_writes_do_not_wait_for_a_background_fsync_in_progress(tmp_path, monkeypatch):
    """A slow disk flush (held here until released) must not stall the batches written meanwhile."""
    started, release = threading.Event(), threading.Event()
    real_sync = append_file._sync

    def slow_sync(fd):
        started.set()
        release.wait(10)
        real_sync(fd)

    with sink(tmp_path, fsync="interval", fsync_interval=0.05) as h:
        h.trail(checkpoint_every=1_000_000)
        first, second, third = (decisions_for(h, 5, seed) for seed in (1, 2, 3))
        h.audit(first)
        monkeypatch.setattr(append_file, "_sync", slow_sync)
        assert started.wait(5)  # the flusher is inside its fsync now
        writer = threading.Thread(target=h.audit, args=(second,))
        writer.start()
        writer.join(2)
        stalled = writer.is_alive()
        release.set()
        writer.join(5)
        assert not stalled, "a write waited for the background fsync"
        monkeypatch.setattr(append_file, "_sync", real_sync)
        h.audit(third)
    log = tmp_path / "audit" / "log.jsonl"
    assert bodies(log) == first.lines() + second.lines() + third.lines()


def test_fsync_never_leaves_it_to_the_os(tmp_path, os_calls):
    with sink(tmp_path, fsync="never") as h:
        h.audit(decisions_for(h, 5, 1))
        assert os_calls["sync"] == 0  # (the checkpoint sealed on exit is always fsynced)
    assert len((tmp_path / "audit" / "log.jsonl").read_bytes().splitlines()) == 5


def test_idempotent_after_restart_and_duplicates_counted(tmp_path):
    with sink(tmp_path) as h:
        decisions = decisions_for(h, 40, 3)
        h.audit(decisions)
    with sink(tmp_path) as h:
        h.audit(decisions)
        more = decisions_for(h, 10, 4)
        h.audit(more)
        h.audit(more)
        assert h.trail().sinks[0].duplicates_skipped == 50 and h.plugin.written == 10
    lines = (tmp_path / "audit" / "log.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["uetr"] for line in lines] == decisions.uetr + more.uetr


def test_a_uetr_twice_in_one_batch_is_written_once(tmp_path):
    with sink(tmp_path) as h:
        batch = h.batch(transactions(3, seed=5) + transactions(1, seed=5))
        h.audit(PluginHarness.decisions(batch))
    lines = (tmp_path / "audit" / "log.jsonl").read_bytes().splitlines()
    assert len(lines) == 3


def test_dedupe_window_is_bounded_and_reloaded_from_the_tail(tmp_path):
    with sink(tmp_path, dedupe_tail=10) as h:
        decisions = decisions_for(h, 30, 6)
        h.audit(decisions)
    with sink(tmp_path, dedupe_tail=10) as h:
        assert len(h.plugin.recent) == 10
        assert all(u in h.plugin.recent for u in decisions.uetr[-10:])
        h.audit(decisions)  # only the last 10 are remembered
    uetrs = [orjson.loads(line)["uetr"] for line in (tmp_path / "audit" / "log.jsonl").read_bytes().splitlines()]
    assert uetrs == decisions.uetr + decisions.uetr[:20]


def test_torn_tail_is_truncated_with_a_warning_and_the_record_rewritten(tmp_path, caplog):
    log = tmp_path / "audit" / "log.jsonl"
    with sink(tmp_path) as h:
        decisions = decisions_for(h, 8, 7)
        h.audit(PluginHarness.decisions(h.batch(transactions(8, seed=7)[:7])))
    whole = log.read_bytes()
    torn = decisions.lines()[7][:100]
    log.write_bytes(whole + torn)
    with caplog.at_level(logging.WARNING, logger="aegis.audit.jsonl"), sink(tmp_path) as h:
        assert log.read_bytes() == whole
        h.audit(decisions)  # the source re-delivers the whole batch
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and str(log) in warning[0] and "dropped its last 100 bytes" in warning[0]
    assert log.read_bytes().startswith(whole)
    assert bodies(log)[7:] == [decisions.lines()[7]]


def test_dead_letters_keep_text_or_base64_payloads(tmp_path):
    rejects = [Reject("feed.csv:4", "the row has 3 cells but the header has 6", b"a,b,c"),
               Reject("feed.jsonl:9", "not JSON", b"\xff\xfe\x00", uetr="0b7cef73-599f-54dd-9fab-605fe9dbe511")]
    with sink(tmp_path) as h:
        h.call("aegis_audit_dead_letter", rejects=rejects)
        h.call("aegis_audit_dead_letter", rejects=[])
    path = tmp_path / "audit" / "log.dead_letter.jsonl"
    first, second = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert first["origin"] == "feed.csv:4" and first["payload"] == "a,b,c" and first["uetr"] is None
    assert "payload_encoding" not in first
    assert second["payload_encoding"] == "base64" and base64.b64decode(second["payload"]) == b"\xff\xfe\x00"
    assert second["uetr"] == "0b7cef73-599f-54dd-9fab-605fe9dbe511" and second["reason"] == "not JSON"
    assert first["received_at"].endswith("Z")
    assert not (tmp_path / "audit" / "log.jsonl").read_bytes()


def test_dead_letter_path_can_be_set(tmp_path):
    target = tmp_path / "elsewhere" / "rejects.jsonl"
    with sink(tmp_path, dead_letter_path=str(target)) as h:
        h.call("aegis_audit_dead_letter", rejects=[Reject("x:1", "bad", b"{}")])
    assert orjson.loads(target.read_bytes())["reason"] == "bad"


def test_rotation_keeps_batches_whole_and_lookup_and_dedupe_span_files(tmp_path):
    with sink(tmp_path) as h:
        batches = [decisions_for(h, 8, 10 + seed) for seed in range(6)]
    chain_member = len(b',"chain":{"seq":10,"prev":"","hash":""}') + 128
    batch_bytes = max(sum(len(line) + 1 + chain_member for line in b.lines()) for b in batches)
    limit = int(2.5 * batch_bytes)  # two batches fit in a file, a third does not
    with sink(tmp_path, rotate_bytes=limit) as h:
        for decisions in batches:
            h.audit(decisions)
    directory = tmp_path / "audit"
    rotated = sorted(p.name for p in directory.iterdir()
                     if p.name not in ("log.jsonl", "log.dead_letter.jsonl", "log.checkpoints.jsonl"))
    assert len(rotated) == 2
    assert all(re.fullmatch(r"log\.\d{8}T\d{6}Z\.\d+\.jsonl", name) for name in rotated)
    files = [directory / name for name in rotated] + [directory / "log.jsonl"]
    per_file = [[orjson.loads(line)["uetr"] for line in f.read_bytes().splitlines()] for f in files]
    assert [len(uetrs) for uetrs in per_file] == [16, 16, 16]  # no batch split across files
    assert all(f.stat().st_size <= limit for f in files)
    assert list(chain.from_iterable(per_file)) == list(chain.from_iterable(b.uetr for b in batches))
    with sink(tmp_path, rotate_bytes=limit) as h:
        oldest = batches[0].uetr[3]
        assert h.call("aegis_audit_lookup", uetr=oldest)["uetr"] == oldest
        h.audit(batches[0])  # remembered from the rotated files
        assert h.trail().sinks[0].duplicates_skipped == 8


def test_lookup_returns_the_parsed_record_or_none(tmp_path):
    with sink(tmp_path) as h:
        decisions = decisions_for(h, 30, 8)
        h.audit(decisions)
        found = h.call("aegis_audit_lookup", uetr=decisions.uetr[17].upper())
        missing = h.call("aegis_audit_lookup", uetr="00000000-0000-4000-8000-000000000000")
    assert {k: v for k, v in found.items() if k != "chain"} == orjson.loads(decisions.lines()[17])
    assert found["chain"]["seq"] == 18
    assert missing is None


def test_self_test_proves_writable_and_fsync_and_leaves_nothing(tmp_path):
    with sink(tmp_path) as h:
        results = h.host.self_test()
    assert [(r.check, r.ok) for r in results] == [("directory writable", True), ("fsync works", True)]
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == [
        "log.checkpoints.jsonl", "log.dead_letter.jsonl", "log.jsonl"]


def test_a_log_moved_away_from_outside_is_followed(tmp_path):
    log = tmp_path / "audit" / "log.jsonl"
    with sink(tmp_path) as h:
        first, second = decisions_for(h, 5, 20), decisions_for(h, 5, 21)
        h.audit(first)
        log.rename(log.with_name("log.jsonl.bak"))  # the operator guide's manual rotation
        log.touch()
        h.audit(second)
        h.audit(first)  # still remembered: not written again
    assert bodies(log) == second.lines()
    assert bodies(log.with_name("log.jsonl.bak")) == first.lines()


@pytest.mark.parametrize("how", ["moved, no new file", "replaced"])
def test_a_log_moved_or_replaced_is_noticed_before_the_next_write(tmp_path, how):
    log = tmp_path / "audit" / "log.jsonl"
    with sink(tmp_path) as h:
        h.trail(checkpoint_every=1_000_000)
        first, second = decisions_for(h, 5, 22), decisions_for(h, 5, 23)
        h.audit(first)
        if how == "replaced":  # a new file renamed over the log: the sink's file is unlinked
            log.with_name("new.jsonl").touch()
            os.replace(log.with_name("new.jsonl"), log)
        else:
            log.rename(log.with_name("log.jsonl.bak"))
        h.audit(second)
    assert bodies(log) == second.lines()


def test_recent_uetrs_forget_whole_batches_but_keep_at_least_the_capacity():
    recent = RecentUetrs(100)
    batches = [[f"{b}-{i}" for i in range(30)] for b in range(10)]
    for n, batch in enumerate(batches, start=1):
        recent.add(batch)
        remembered = [u for b in batches[:n] for u in b if u in recent]
        assert len(recent) == len(remembered) and len(remembered) >= min(100, 30 * n)
        assert len(remembered) < 100 + 30  # at most one batch beyond the capacity
        assert remembered == [u for b in batches[:n] for u in b][-len(remembered):]  # the newest ones
    assert recent.known(["9-0", "0-0", "x"]) == {"9-0"}
