"""The kernel's scoring conformance suite, run on the model plugin as a vendor would run it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from aegis_scoring_model.config import default_weights_path

from aegis.testing import ScoringPluginTests


class TestModelConformance(ScoringPluginTests):
    plugin_name = "model"
    supports_reload = True
    stateful = True

    @pytest.fixture
    def plugin_config(self, tmp_path):
        path = tmp_path / "model_weights.json"
        path.write_bytes(default_weights_path().read_bytes())
        return {"weights": str(path)}

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        path = Path(plugin_config["weights"])
        spec = json.loads(path.read_bytes())
        if valid:  # a retrained intercept
            spec["intercept"] += 0.5
            content = json.dumps(spec).encode()
        else:  # a weight that is not a number
            spec["features"][0]["weight"] = 12345.5
            content = json.dumps(spec).replace("12345.5", "NaN").encode()
        fresh = path.with_suffix(".new")
        fresh.write_bytes(content)
        os.replace(fresh, path)
