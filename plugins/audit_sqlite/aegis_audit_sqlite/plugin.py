"""The ``sqlite`` audit sink: decision records, checkpoints and dead letters in one SQLite database."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence

from aegis.audit_chain import ChainedRecord, ChainHead
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import Reject
from aegis_audit_sqlite.config import SqliteAuditConfig
from aegis_audit_sqlite.store import AuditDatabase

log = logging.getLogger("aegis.audit.sqlite")


class SqliteAuditSink:
    """Writes each batch in one transaction (WAL), idempotent on UETR through a unique index."""

    Config = SqliteAuditConfig

    def __init__(self, config: SqliteAuditConfig):
        self.config = config
        self.db: AuditDatabase | None = None
        self.written = 0

    @property
    def _db(self) -> AuditDatabase:
        if self.db is None:
            raise RuntimeError(f"audit database {self.config.path} is not open (the sink was not started)")
        return self.db

    @hookimpl
    def aegis_startup(self) -> None:
        self.db = AuditDatabase(self.config.path, read_only=self.config.read_only,
                                synchronous=self.config.synchronous, busy_timeout=self.config.busy_timeout)
        log.debug("%s opened (%s)", self.config.path, "read-only" if self.config.read_only else
                  f"WAL, synchronous={self.config.synchronous}")

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    @hookimpl
    def aegis_audit_known(self, uetrs: Sequence[str]) -> set[str]:
        """Answered from the whole database through the UETR index (no window)."""
        return self._db.known(uetrs)

    @hookimpl
    def aegis_audit_write(self, records: Sequence[ChainedRecord]) -> None:
        if records:
            self._db.append(records)
            self.written += len(records)

    @hookimpl
    def aegis_audit_head(self) -> ChainHead | None:
        return self._db.head()

    @hookimpl
    def aegis_audit_checkpoint(self, checkpoint: dict) -> None:
        self._db.add_checkpoint(checkpoint)

    @hookimpl
    def aegis_audit_scan(self, after_seq: int) -> Iterator[bytes]:
        return self._db.lines(after_seq)

    @hookimpl
    def aegis_audit_checkpoints(self) -> list[dict]:
        return self._db.checkpoints()

    @hookimpl
    def aegis_audit_dead_letter(self, rejects: Sequence[Reject]) -> None:
        if rejects:
            self._db.add_dead_letters(rejects)

    @hookimpl
    def aegis_audit_lookup(self, uetr: str) -> dict | None:
        return self._db.record(uetr)

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        name = f"audit (sqlite {self.config.path})"
        db = self._db
        results = []
        try:
            problems = db.quick_check()
            results.append(SelfTestResult(name, "database intact", not problems,
                                          "PRAGMA quick_check: ok" if not problems else "; ".join(problems[:3])))
            if not self.config.read_only:
                mode = db.journal_mode()
                results.append(SelfTestResult(name, "WAL mode", mode == "wal", f"journal_mode={mode}, "
                                              f"synchronous={self.config.synchronous}"))
                db.probe_write()
                results.append(SelfTestResult(name, "database writable", True, "write transaction begun and "
                                              "rolled back"))
        except sqlite3.Error as exc:
            results.append(SelfTestResult(name, "database usable", False, f"{type(exc).__name__}: {exc}"))
        return results
