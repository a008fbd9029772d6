"""The ``jsonl`` audit sink: decision records and dead letters as append-only JSON Lines."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

from aegis.decide import Decisions
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import Reject
from aegis_audit_jsonl.append_file import AppendFile, fsync_directory
from aegis_audit_jsonl.config import JsonlAuditConfig
from aegis_audit_jsonl.dead_letter import dead_letter_lines
from aegis_audit_jsonl.flusher import IntervalFlusher
from aegis_audit_jsonl.lookup import find_record
from aegis_audit_jsonl.recent import RecentUetrs, record_uetr
from aegis_audit_jsonl.tail import last_lines

log = logging.getLogger("aegis.audit.jsonl")


class JsonlAuditSink:
    """Writes each batch's records in one append, idempotent on UETR, durable per the fsync policy."""

    Config = JsonlAuditConfig

    def __init__(self, config: JsonlAuditConfig):
        self.config = config
        self.records = AppendFile(config.path, config.fsync, config.rotate_bytes)
        self.dead_letters = AppendFile(config.dead_letters, config.fsync, config.rotate_bytes)
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
    def aegis_startup(self) -> None:
        self.records.open()
        self.dead_letters.open()
        self._remember_tail()
        if self.config.fsync == "interval":
            self.flusher = IntervalFlusher([self.records, self.dead_letters], self.config.fsync_interval)
            self.flusher.start()

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.flusher is not None:
            self.flusher.stop()
            self.flusher = None
        self.records.close()
        self.dead_letters.close()

    def _check_flusher(self) -> None:
        if self.flusher is not None and self.flusher.failure is not None:
            raise OSError(f"background fsync of {self.records.path} failed earlier: {self.flusher.failure}")

    @hookimpl
    def aegis_audit_write(self, decisions: Decisions) -> None:
        self._check_flusher()
        uetrs = decisions.uetr
        lines = decisions.lines()
        fresh = self.recent.fresh(uetrs)
        if fresh is not None:
            skipped = len(uetrs) - len(fresh)
            self.duplicates_skipped += skipped
            log.debug("%s: skipped %d record(s) whose UETR is already written", self.records.path, skipped)
            lines = [lines[i] for i in fresh]
            uetrs = [uetrs[i] for i in fresh]
        if not lines:
            return
        self.records.append(b"\n".join(chain(lines, (b"",))))
        self.recent.add(uetrs)
        self.written += len(lines)

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
