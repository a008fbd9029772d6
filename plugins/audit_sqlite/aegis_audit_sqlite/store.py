"""The audit tables: chained records, signed checkpoints and dead letters, read and written with SQL.

Every write is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), so a batch is stored whole
or not at all, even when the process is killed in the middle of it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from operator import attrgetter
from pathlib import Path

import orjson

from aegis.audit_chain import ChainedRecord, ChainHead, checkpoint_hash
from aegis.model import Reject, utc_timestamp
from aegis_audit_sqlite.database import connect_read_only, connect_read_write

log = logging.getLogger("aegis.audit.sqlite")
SCAN_CHUNK = 4096
_ROW = attrgetter("seq", "uetr", "decision", "hash", "line")  # a ChainedRecord as a records row


def _as_bytes(line: bytes | str) -> bytes:
    """A stored line as bytes: the sink stores BLOBs, but a row edited out of band may hold TEXT."""
    return line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line


class DuplicateRecordError(Exception):
    """A batch would store a UETR or chain position that is already stored; nothing of it was written."""


class AuditDatabase:
    """One audit database and the connection the sink writes through (safe to share between threads)."""

    def __init__(self, path: Path, *, read_only: bool, synchronous: str = "FULL", busy_timeout: float = 5.0):
        self.path = path
        self.read_only = read_only
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn = (connect_read_only(path, busy_timeout) if read_only
                      else connect_read_write(path, synchronous, busy_timeout))

    def close(self) -> None:
        with self._lock:
            try:
                if not self.read_only:
                    self._conn.execute("PRAGMA optimize")  # refresh the query planner's statistics if stale
            except sqlite3.Error as exc:
                log.warning("%s: PRAGMA optimize failed on close: %s", self.path, exc)
            finally:
                self._conn.close()

    def _writable(self) -> sqlite3.Connection:
        if self.read_only:
            raise PermissionError(f"{self.path} is opened read-only (read_only: true); nothing can be written")
        return self._conn

    def _transaction(self, statement: str, rows: Sequence[tuple]) -> None:
        conn = self._writable()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(statement, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- records ---------------------------------------------------------------------------------

    def append(self, records: Sequence[ChainedRecord]) -> None:
        """Store ``records`` in one transaction; durable (per ``synchronous``) when this returns."""
        rows = list(map(_ROW, records))
        with self._lock:
            try:
                self._transaction("INSERT INTO records (seq, uetr, decision, hash, line) VALUES (?, ?, ?, ?, ?)",
                                  rows)
            except sqlite3.IntegrityError:
                raise DuplicateRecordError(self._describe_duplicates(records)) from None

    def _describe_duplicates(self, records: Sequence[ChainedRecord]) -> str:
        uetrs = sorted(self._known([r.uetr for r in records]))
        seqs = [seq for (seq,) in self._conn.execute(
            "SELECT seq FROM records WHERE seq BETWEEN ? AND ?", (records[0].seq, records[-1].seq))]
        what = []
        if uetrs:
            what.append(f"UETR(s) already stored: {', '.join(uetrs[:5])}" + (" …" if len(uetrs) > 5 else ""))
        if seqs:
            what.append(f"chain position(s) already taken: {seqs[0]}..{seqs[-1]} (another writer on this database?)")
        if not what:
            what.append("a UETR appears twice in the batch")
        return f"{self.path}: batch of {len(records)} record(s) not stored: {'; '.join(what)}"

    def known(self, uetrs: Sequence[str]) -> set[str]:
        """Which of ``uetrs`` are stored (an index lookup each, over the whole database)."""
        with self._lock:
            return self._known(uetrs)

    def _known(self, uetrs: Sequence[str]) -> set[str]:
        rows = self._conn.execute("SELECT uetr FROM records WHERE uetr IN (SELECT value FROM json_each(?))",
                                  (orjson.dumps(list(uetrs)),))
        return {uetr for (uetr,) in rows}

    def head(self) -> ChainHead | None:
        with self._lock:
            last = self._conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            checkpoint = self._conn.execute("SELECT body FROM checkpoints ORDER BY to_seq DESC LIMIT 1").fetchone()
        if last is None:
            return None
        head = ChainHead(seq=last[0], hash=last[1])
        if checkpoint is not None:
            sealed = orjson.loads(checkpoint[0])
            head.checkpoint_seq, head.checkpoint_hash = int(sealed["to_seq"]), checkpoint_hash(sealed)
        return head

    def lines(self, after_seq: int) -> Iterator[bytes]:
        """Stored lines with ``seq > after_seq`` in chain-position order, from one consistent snapshot.

        Reads through its own read-only connection, so writes may go on meanwhile.
        """
        conn = connect_read_only(self.path, self.busy_timeout)
        try:
            cursor = conn.execute("SELECT line FROM records WHERE seq > ? ORDER BY seq", (after_seq,))
            while rows := cursor.fetchmany(SCAN_CHUNK):
                for (line,) in rows:
                    yield _as_bytes(line)
        finally:
            conn.close()

    def record(self, uetr: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT line FROM records WHERE uetr = ?", (uetr.lower(),)).fetchone()
        return None if row is None else orjson.loads(_as_bytes(row[0]))

    # -- checkpoints -----------------------------------------------------------------------------

    def add_checkpoint(self, checkpoint: dict) -> None:
        """Store a signed checkpoint; always fsynced, whatever ``synchronous`` says for records."""
        row = (int(checkpoint["to_seq"]), int(checkpoint["from_seq"]), orjson.dumps(checkpoint))
        with self._lock:
            conn = self._writable()
            if self.synchronous != "FULL":
                conn.execute("PRAGMA synchronous = FULL")
            try:
                self._transaction("INSERT INTO checkpoints (to_seq, from_seq, body) VALUES (?, ?, ?)", [row])
            finally:
                if self.synchronous != "FULL":
                    conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def checkpoints(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM checkpoints ORDER BY to_seq").fetchall()
        return [orjson.loads(body) for (body,) in rows]

    # -- dead letters ----------------------------------------------------------------------------

    def add_dead_letters(self, rejects: Sequence[Reject]) -> None:
        received_at = utc_timestamp()
        rows = [(r.origin, r.reason, r.uetr, r.payload, received_at) for r in rejects]
        with self._lock:
            self._transaction("INSERT INTO dead_letters (origin, reason, uetr, payload, received_at) "
                              "VALUES (?, ?, ?, ?, ?)", rows)

    # -- health ----------------------------------------------------------------------------------

    def quick_check(self) -> list[str]:
        """``PRAGMA quick_check`` problems (empty when the database is intact). Page and record structure
        only: unlike ``integrity_check`` it does not compare indexes with their table."""
        with self._lock:
            try:
                rows = [message for (message,) in self._conn.execute("PRAGMA quick_check")]
            except sqlite3.DatabaseError as exc:  # damage so deep the check cannot go on
                rows = [str(exc)]
        return [] if rows == ["ok"] else rows

    def journal_mode(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    def probe_write(self) -> None:
        """Take the write lock and release it without writing anything."""
        with self._lock:
            conn = self._writable()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
