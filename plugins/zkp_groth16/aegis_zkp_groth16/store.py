"""Proofs in SQLite (``aegis_zkp.db``), keyed by the decision's UETR, with retention."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS proofs (
    uetr TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    model TEXT NOT NULL,
    proof TEXT NOT NULL,
    public_inputs TEXT NOT NULL,
    opening TEXT NOT NULL,
    signals TEXT NOT NULL DEFAULT '[]'
)
"""
#: Columns added after the first release, with their definitions: opened databases are migrated in place.
MIGRATIONS = {"signals": "TEXT NOT NULL DEFAULT '[]'"}


class ProofStore:
    """One row per proved decision: snarkjs proof and public inputs, the private opening, and the
    consortium signals published for it (``[{"signal_id", "role", "entity"}]``)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns a database from an earlier version lacks (existing rows get the default)."""
        with self._lock:
            present = {row[1] for row in self._db.execute("PRAGMA table_info(proofs)")}
            for column, definition in MIGRATIONS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE proofs ADD COLUMN {column} {definition}")

    def put(self, uetr: str, model: str, proof: dict, public_inputs: list[str], opening: dict,
            signals: list[dict] | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO proofs (uetr, created_at, model, proof, public_inputs, opening, "
                             "signals) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (uetr, time.time(), model, json.dumps(proof), json.dumps(public_inputs),
                              json.dumps(opening), json.dumps(signals or [])))

    def get(self, uetr: str) -> dict | None:
        """``{"uetr", "model", "proof", "public_inputs", "signals"}`` (never the opening), or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT uetr, model, proof, public_inputs, signals FROM proofs WHERE uetr = ?",
                                   (uetr,)).fetchone()
        if row is None:
            return None
        return {"uetr": row[0], "model": row[1], "proof": json.loads(row[2]), "public_inputs": json.loads(row[3]),
                "signals": json.loads(row[4])}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM proofs").fetchone()[0])

    def expire(self, retention_hours: float, now: float | None = None) -> int:
        cutoff = (time.time() if now is None else now) - retention_hours * 3600
        with self._lock:
            return self._db.execute("DELETE FROM proofs WHERE created_at < ?", (cutoff,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
