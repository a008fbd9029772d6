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
    opening TEXT NOT NULL
)
"""


class ProofStore:
    """One row per proved decision: snarkjs proof and public inputs, and the private opening."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)

    def put(self, uetr: str, model: str, proof: dict, public_inputs: list[str], opening: dict) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO proofs VALUES (?, ?, ?, ?, ?, ?)",
                             (uetr, time.time(), model, json.dumps(proof), json.dumps(public_inputs),
                              json.dumps(opening)))

    def get(self, uetr: str) -> dict | None:
        """``{"uetr", "model", "proof", "public_inputs"}`` (never the opening), or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT uetr, model, proof, public_inputs FROM proofs WHERE uetr = ?",
                                   (uetr,)).fetchone()
        if row is None:
            return None
        return {"uetr": row[0], "model": row[1], "proof": json.loads(row[2]), "public_inputs": json.loads(row[3])}

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
