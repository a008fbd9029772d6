"""The kernel's audit conformance suite, run against the SQLite sink as a vendor would."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import orjson
import pytest

from aegis.testing import AuditPluginTests


def _rows(plugin_config: dict, query: str) -> list[tuple]:
    with closing(sqlite3.connect(plugin_config["path"])) as conn:
        return conn.execute(query).fetchall()


class TestSqliteAuditConformance(AuditPluginTests):
    plugin_name = "sqlite"

    @pytest.fixture
    def plugin_config(self, tmp_path):
        return {"path": str(tmp_path / "audit" / "aegis_audit.db")}

    def read_records(self, plugin_config: dict) -> list[dict]:
        return [orjson.loads(line) for (line,) in _rows(plugin_config, "SELECT line FROM records ORDER BY seq")]

    def read_dead_letters(self, plugin_config: dict) -> list[dict]:
        rows = _rows(plugin_config, "SELECT origin, reason, uetr, payload FROM dead_letters ORDER BY id")
        return [{"origin": o, "reason": r, "uetr": u, "payload": p} for o, r, u, p in rows]
