"""The kernel's audit conformance suite, run against the JSONL sink as a vendor would."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from aegis.testing import AuditPluginTests


class TestJsonlAuditConformance(AuditPluginTests):
    plugin_name = "jsonl"

    @pytest.fixture
    def plugin_config(self, tmp_path):
        return {"path": str(tmp_path / "audit" / "aegis_audit.jsonl")}

    def read_records(self, plugin_config: dict) -> list[dict]:
        return [orjson.loads(line) for line in Path(plugin_config["path"]).read_bytes().splitlines()]

    def read_dead_letters(self, plugin_config: dict) -> list[dict]:
        path = Path(plugin_config["path"]).with_name("aegis_audit.dead_letter.jsonl")
        return [orjson.loads(line) for line in path.read_bytes().splitlines()]
