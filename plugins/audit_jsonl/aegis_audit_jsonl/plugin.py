"""The ``jsonl`` audit sink: decision records and dead letters as append-only JSON Lines."""

from __future__ import annotations

import base64
import gzip
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson

from aegis.audit_chain import (
    RETENTION,
    ChainedRecord,
    ChainHead,
    checkpoint_hash,
    checkpoint_payload,
    record_text,
    record_uetr,
    record_uetrs,
    split_line,
)
from aegis.dead_letter import dead_letter_lines
from aegis.decide import Decisions
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import Reject
from aegis_audit_jsonl.append_file import AppendFile, fsync_directory
from aegis_audit_jsonl.config import JsonlAuditConfig
from aegis_audit_jsonl.flusher import IntervalFlusher
from aegis_audit_jsonl.lookup import find_record
from aegis_audit_jsonl.recent import RecentUetrs
from aegis_audit_jsonl.tail import last_lines

log = logging.getLogger("aegis.audit.jsonl")


class JsonlAuditSink:
    """Writes each batch's records in one append, idempotent on UETR, durable per the fsync policy."""

    Config = JsonlAuditConfig

    def __init__(self, config: JsonlAuditConfig):
        self.config = config
        self.records = AppendFile(config.path, config.fsync, config.rotate_bytes, config.compress_rotated)
        self.dead_letters = AppendFile(config.dead_letters, config.fsync, config.rotate_bytes)
        # Checkpoints are few and are what makes the log provable: fsynced as written (after the records
        # they cover are durable: at once under fsync batch, by the flusher under interval), never rotated.
        self.checkpoints = AppendFile(config.checkpoints, "batch")
        self.retention = AppendFile(config.path.with_name(f"{config.path.stem}.retention.jsonl"), "batch")
        self.context = None
        self.recent = RecentUetrs(config.dedupe_tail)
        self.flusher: IntervalFlusher | None = None
        self.written = 0
        self.duplicates_skipped = 0

    def _log_files(self) -> list[Path]:
        """The current log and its rotated predecessors, newest first."""
        return [self.records.path, *reversed(self.records.rotated())]

    def _remember_tail(self) -> None:
        """Reload the UETRs of the last ``dedupe_tail`` records, crossing into rotated files if needed."""
        lines: list[bytes] = []
        for path in self._log_files():
            wanted = self.config.dedupe_tail - len(lines)
            if wanted <= 0:
                break
            lines = last_lines(path, wanted) + lines
        uetrs = [u for u in map(record_uetr, lines) if u is not None]
        self.recent.add(list(dict.fromkeys(uetrs)))
        log.debug("%s: remembered %d recent UETRs", self.records.path, len(self.recent))

    @hookimpl
    def aegis_startup(self, context) -> None:
        self.context = context
        if self.config.read_only:
            if not self.config.path.exists():
                raise FileNotFoundError(f"audit log {self.config.path} does not exist")
            return
        self.records.open()
        self.dead_letters.open()
        self.checkpoints.open()
        if self.config.retention_days is not None:  # the markers file exists only under a retention policy
            self.retention.open()
        self._remember_tail()
        if self.config.fsync == "interval":
            self.flusher = IntervalFlusher([self.records, self.dead_letters], self.config.fsync_interval,
                                           self.checkpoints)
            self.flusher.start()

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.flusher is not None:
            self.flusher.stop()
            self.flusher = None
        self.records.close()
        self.dead_letters.close()
        self.checkpoints.close()
        self.retention.close()

    def _check_flusher(self) -> None:
        if self.config.read_only:
            raise PermissionError(f"{self.records.path} is opened read-only (read_only: true)")
        if self.flusher is not None and self.flusher.failure is not None:
            raise OSError(f"background fsync of {self.records.path} failed earlier: {self.flusher.failure}")

    @hookimpl
    def aegis_audit_known(self, uetrs: Sequence[str]) -> set[str]:
        """Known from the recent window (``dedupe_tail``): re-delivery only reaches unacknowledged batches."""
        return self.recent.known(uetrs)

    @hookimpl
    def aegis_audit_write(self, decisions: Decisions, records: Sequence[ChainedRecord]) -> None:
        self._check_flusher()
        if not records:
            return
        self.records.append(record_text(records))
        self.recent.add(record_uetrs(records))
        self.written += len(records)

    @hookimpl
    def aegis_audit_head(self) -> ChainHead | None:
        last = next((lines for path in self._log_files() if (lines := last_lines(path, 1))), None)
        if last is None:
            return None
        chain_member = split_line(last[0])[1]
        head = ChainHead(seq=int(chain_member["seq"]), hash=chain_member["hash"])
        checkpoints = last_lines(self.checkpoints.path, 1)
        if checkpoints:
            checkpoint = orjson.loads(checkpoints[0])
            head.checkpoint_seq, head.checkpoint_hash = int(checkpoint["to_seq"]), checkpoint_hash(checkpoint)
        return head

    @hookimpl
    def aegis_audit_checkpoint(self, checkpoint: dict) -> None:
        line = orjson.dumps(checkpoint) + b"\n"
        if self.flusher is not None:  # fsync interval: written by the flush that makes its records durable
            self.flusher.seal(line)
        else:
            self.checkpoints.append(line)
        if self.config.retention_days is not None:
            self._apply_retention()

    def _apply_retention(self) -> None:
        """Delete rotated files older than ``retention_days`` that end exactly at a checkpoint,
        after recording a signed retention marker (so what remains still verifies)."""
        cutoff = time.time() - self.config.retention_days * 86400
        sealed = {int(c["to_seq"]): c for c in self.aegis_audit_checkpoints() if c.get("type") != RETENTION}
        doomed: list[Path] = []
        purge: tuple[list[Path], dict] | None = None
        for path in self.records.rotated():
            if path.stat().st_mtime >= cutoff:
                break
            doomed.append(path)
            last = last_lines(path, 1)
            seq = int(split_line(last[0])[1]["seq"]) if last else 0
            if seq in sealed:
                purge = (list(doomed), sealed[seq])
        if purge is None:
            return
        files, checkpoint = purge
        marker = {"type": RETENTION, "version": 1, "purged_through_seq": int(checkpoint["to_seq"]),
                  "chain_head": checkpoint["chain_head"], "checkpoint_hash": checkpoint_hash(checkpoint),
                  "files": [p.name for p in files], "retention_days": self.config.retention_days,
                  "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                  "key": self.config.signing_key}
        signature = self.context.host.sign(checkpoint_payload(marker), self.config.signing_key)
        marker["signature"] = base64.b64encode(signature).decode()
        self.retention.append(orjson.dumps(marker) + b"\n")  # durable before anything is deleted
        for path in files:
            path.unlink()
        fsync_directory(self.records.path.parent)
        log.warning("retention (%d days): deleted %s, sealed through seq %d", self.config.retention_days,
                    ", ".join(p.name for p in files), marker["purged_through_seq"])

    @hookimpl
    def aegis_audit_scan(self, after_seq: int):
        for path in reversed(self._log_files()):  # oldest rotated file first
            with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
                for line in f:
                    line = line.rstrip(b"\n")
                    if not line:
                        continue
                    if after_seq and _seq(line) <= after_seq:
                        continue
                    yield line

    @hookimpl
    def aegis_audit_checkpoints(self) -> list[dict]:
        """Checkpoints, then retention markers (``type`` ``aegis.audit.retention``) if any."""
        out = []
        for path in (self.checkpoints.path, self.retention.path):
            if path.exists():
                out += [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        return out

    @hookimpl
    def aegis_audit_dead_letter(self, rejects: Sequence[Reject]) -> None:
        self._check_flusher()
        if rejects:
            self.dead_letters.append(dead_letter_lines(rejects))

    @hookimpl
    def aegis_audit_lookup(self, uetr: str) -> dict | None:
        return find_record(self._log_files(), uetr)

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        name = f"audit (jsonl {self.records.path})"
        directory = self.records.path.parent
        try:
            fd, probe = tempfile.mkstemp(prefix=".aegis-self-test-", dir=directory)
        except OSError as exc:
            return [SelfTestResult(name, "directory writable", False, f"{directory}: {exc}")]
        try:
            os.write(fd, b"{}\n")
            results = [SelfTestResult(name, "directory writable", True, str(directory))]
            try:
                os.fsync(fd)
                fsync_directory(directory)
                results.append(SelfTestResult(name, "fsync works", True, f"policy {self.config.fsync}"))
            except OSError as exc:
                results.append(SelfTestResult(name, "fsync works", False, f"{directory}: {exc}"))
        finally:
            os.close(fd)
            os.unlink(probe)
        return results


def _seq(line: bytes) -> int:
    try:
        return int(split_line(line)[1]["seq"])
    except (ValueError, KeyError):
        return 0  # unreadable: let the verifier report it
