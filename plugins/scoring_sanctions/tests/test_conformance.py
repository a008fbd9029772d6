"""The kernel's scoring conformance suite, run on the sanctions plugin as a vendor would run it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aegis.testing import ScoringPluginTests

UN_XML = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sanctions" / "un"
          / "UN_consolidated.xml").resolve()


class TestSanctionsConformance(ScoringPluginTests):
    plugin_name = "sanctions"
    supports_reload = True
    stateful = False

    @pytest.fixture
    def plugin_config(self, tmp_path):
        path = tmp_path / "UN_consolidated.xml"
        shutil.copy(UN_XML, path)
        path.chmod(0o644)
        return {"lists": [{"format": "un-xml", "path": str(path)}]}

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        path = Path(plugin_config["lists"][0]["path"])
        content = UN_XML.read_bytes()
        if valid:  # a newer list: another generation date
            content = content.replace(b'dateGenerated="2026-02-27', b'dateGenerated="2026-03-06', 1)
        else:  # cut off half-way: not well-formed XML
            content = content[: len(content) // 2]
        fresh = path.with_suffix(".new")
        fresh.write_bytes(content)
        os.replace(fresh, path)
