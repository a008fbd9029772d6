"""The kernel's scoring conformance suite, run on the rules plugin as a vendor would run it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aegis.testing import ScoringPluginTests

FATF_CSV = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "country_risk"
            / "fatf_lists.csv").resolve()


class TestRulesConformance(ScoringPluginTests):
    plugin_name = "rules"
    supports_reload = True
    stateful = True

    @pytest.fixture
    def plugin_config(self, tmp_path):
        path = tmp_path / "fatf_lists.csv"
        shutil.copy(FATF_CSV, path)
        return {"geo": {"fatf_list": str(path)}, "velocity": {"windows": [{"window": "15m", "max_count": 5}]}}

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        path = Path(plugin_config["geo"]["fatf_list"])
        content = FATF_CSV.read_bytes()
        if valid:  # the newest list gains a jurisdiction
            content += b"2026-06-19,GB,United Kingdom,increased_monitoring,corroborated,conformance test\n"
        else:  # a row with an ISO code that does not exist
            content += b"2026-06-19,QQ,Nowhere,increased_monitoring,corroborated,conformance test\n"
        fresh = path.with_suffix(".new")
        fresh.write_bytes(content)
        os.replace(fresh, path)
