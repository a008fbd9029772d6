"""Online backup: SQLite's backup API copies a consistent snapshot while the sink keeps writing,
then ``PRAGMA integrity_check`` runs on the copy before it is put in place.

The copy is built next to ``dest`` under a temporary name, checked, fsynced and renamed, so
``dest`` is either a complete, intact backup or does not exist.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from aegis_audit_sqlite.database import MODE, AuditDatabaseError, connect_read_only


class BackupError(Exception):
    """The backup could not be made, or the copy failed its integrity check (``dest`` was not written)."""


@dataclass(frozen=True)
class BackupReport:
    """What a finished backup holds."""

    source: Path
    dest: Path
    pages: int
    bytes: int
    records: int
    last_seq: int
    checkpoints: int
    dead_letters: int
    integrity: str  # "ok": PRAGMA integrity_check on the copy found nothing wrong
    seconds: float

    def summary(self) -> str:
        return (f"{self.dest}: {self.records:,} records (through seq {self.last_seq:,}), {self.checkpoints:,} "
                f"checkpoints, {self.dead_letters:,} dead letters; {self.pages:,} pages, {self.bytes:,} bytes; "
                f"integrity_check: {self.integrity}; {self.seconds:.2f} s")


def backup(source: Path, dest: Path) -> BackupReport:
    """Copy the audit database at ``source`` to ``dest`` (which must not exist) and check the copy."""
    if dest.exists():
        raise BackupError(f"{dest} already exists; a backup never overwrites a file (choose a new name)")
    if dest.resolve() == source.resolve():
        raise BackupError(f"{dest} is the source database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    started = time.monotonic()
    try:
        src = connect_read_only(source)
    except (OSError, sqlite3.Error, AuditDatabaseError) as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, MODE))
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(copy)  # all pages in one step: one read snapshot, writers are not blocked (WAL)
            # The copy stands alone: its own pages, no -wal/-shm files beside it.
            copy.execute("PRAGMA journal_mode = DELETE")
            try:
                problems = [message for (message,) in copy.execute("PRAGMA integrity_check")]
            except sqlite3.DatabaseError as exc:  # damage so deep the check itself cannot go on
                problems = [str(exc)]
            if problems != ["ok"]:
                raise BackupError(f"integrity_check failed on the copy of {source}; {dest} was not written:\n  "
                                  + "\n  ".join(problems[:20]))
            counts = copy.execute("SELECT (SELECT count(*) FROM records), (SELECT coalesce(max(seq), 0) FROM records),"
                                  " (SELECT count(*) FROM checkpoints), (SELECT count(*) FROM dead_letters)").fetchone()
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
        finally:
            copy.close()
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        try:
            os.link(partial, dest)  # unlike rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            raise BackupError(f"{dest} was created by someone else during the backup; not overwritten") from None
        directory = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} to {dest} failed: {exc}") from None
    finally:
        src.close()
        partial.unlink(missing_ok=True)
    return BackupReport(source=source, dest=dest, pages=pages, bytes=dest.stat().st_size, records=counts[0],
                        last_seq=counts[1], checkpoints=counts[2], dead_letters=counts[3], integrity="ok",
                        seconds=time.monotonic() - started)
