"""The database file: opening it (read-write or read-only), its pragmas and its schema.

A new database is created with a 16 KiB page size, in WAL mode, marked with an application id
(so a stray SQLite file is never taken for an audit database) and a schema version.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: ``PRAGMA application_id`` of an Aegis audit database ("AEGS").
APPLICATION_ID = 0x41454753
SCHEMA_VERSION = 1
#: Bytes per page of a new database: fewer, larger writes per batch than SQLite's 4 KiB default.
PAGE_SIZE = 16384
#: The writer's page cache (KiB): a whole batch and the hot part of the UETR index stay in memory.
CACHE_KIB = 65536
#: Pages the WAL may grow to before a commit copies it into the database (64 MiB): a page changed by
#: many batches in between is copied once. After the copy the WAL file is cut back to that size.
WAL_CHECKPOINT_PAGES = 4096
MODE = 0o640

SCHEMA = (
    # One row per decision record. ``seq`` is the record's position in this sink's hash chain;
    # ``line`` is the record exactly as the kernel rendered and chained it (never re-serialised).
    """CREATE TABLE records (
        seq      INTEGER PRIMARY KEY,
        uetr     TEXT NOT NULL,
        decision TEXT NOT NULL,
        hash     TEXT NOT NULL,
        line     BLOB NOT NULL
    )""",
    # A UETR is stored once: a re-delivered transaction can never create a second record.
    "CREATE UNIQUE INDEX records_uetr ON records (uetr)",
    # Signed checkpoints of the hash chain, as the JSON the kernel produced.
    """CREATE TABLE checkpoints (
        to_seq   INTEGER PRIMARY KEY,
        from_seq INTEGER NOT NULL,
        body     BLOB NOT NULL
    )""",
    # Rejected input with its reason and original bytes.
    """CREATE TABLE dead_letters (
        id          INTEGER PRIMARY KEY,
        origin      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        uetr        TEXT,
        payload     BLOB NOT NULL,
        received_at TEXT NOT NULL
    )""",
)


class AuditDatabaseError(Exception):
    """The file at the configured path cannot be used as an audit database."""


def connect_read_only(path: Path, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """Open an existing audit database with ``mode=ro``: nothing is ever written through it."""
    if not path.is_file():
        raise FileNotFoundError(f"audit database {path} does not exist")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout,
                           isolation_level=None, check_same_thread=False)
    try:
        _check_identity(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read_write(path: Path, synchronous: str = "FULL", busy_timeout: float = 5.0) -> sqlite3.Connection:
    """Open (creating it and its directory if needed) the audit database for writing, in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # SQLite gives the -wal and -shm files the database file's permissions.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE))
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        _prepare(conn, path)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_PAGES * PAGE_SIZE}")
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    try:
        empty = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    except sqlite3.DatabaseError as exc:
        raise AuditDatabaseError(f"{path} is not a SQLite database ({exc})") from None
    if empty:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only takes effect before the first table
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise AuditDatabaseError(f"{path}: cannot switch to WAL mode (journal_mode stays {mode!r})")
    if empty:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:  # not created meanwhile
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    _check_identity(conn, path)


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise AuditDatabaseError(f"{path} is not a SQLite database ({exc})") from None
    if application_id != APPLICATION_ID:
        raise AuditDatabaseError(f"{path} is a SQLite database but not an Aegis audit database "
                                 f"(application_id {application_id:#x}, expected {APPLICATION_ID:#x})")
    if version > SCHEMA_VERSION:
        raise AuditDatabaseError(f"{path} has schema version {version}, written by a newer aegis-plugin-audit-sqlite;"
                                 f" this version reads schema {SCHEMA_VERSION}")
