"""The Aegis conformance suite for the denylist scorer, consumed exactly as any vendor would."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aegis.testing import ScoringPluginTests
from aegis.testing.samples import german_iban

SAMPLE = Path(__file__).resolve().parents[1] / "denylist.csv"


class TestDenylistScorer(ScoringPluginTests):
    plugin_name = "denylist"
    supports_reload = True
    stateful = False

    @pytest.fixture
    def plugin_config(self, tmp_path) -> dict:
        path = tmp_path / "denylist.csv"
        shutil.copyfile(SAMPLE, path)
        return {"accounts_csv": str(path), "match": "both", "hard_block": True}

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        path = Path(plugin_config["accounts_csv"])
        if valid:
            text = path.read_text() + f"{german_iban(3)},added by the conformance run,2026-01-05,qa@acme.example\n"
        else:
            text = "account,reason\nACC-000001,header lacks listed_at and listed_by\n"
        staged = path.with_suffix(".tmp")
        staged.write_text(text)
        os.replace(staged, path)  # atomic, as operators are told to replace the list
