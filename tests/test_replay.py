"""Deterministic replay (`aegis replay`) of decisions made by two model versions in one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import yaml

from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline

from .conftest import RULES, deployment
from .test_pipeline import audit_records, paysim_slice

AEGIS = str(Path(sys.executable).with_name("aegis"))


def shipped_weights() -> dict:
    from aegis_scoring_model.config import default_weights_path
    return json.loads(default_weights_path().read_text())


def test_replay_equals_the_record_across_a_model_hot_reload(tmp_path):
    weights = tmp_path / "model_weights.json"
    first = shipped_weights()
    weights.write_text(json.dumps(first))
    second = {**first, "intercept": first["intercept"] + 6.0}
    data = deployment(tmp_path, paysim_slice(tmp_path, 4000), fmt="paysim",
                      scoring=[RULES, {"plugin": "model", "config": {"weights": str(weights)}}],
                      decision={"weights": {"MODEL_AMOUNT": 1.0, "MODEL_BEHAVIOUR": 1.0, "MODEL_VELOCITY": 1.0,
                                            "MODEL_GEO": 1.0, "MODEL_BALANCE": 1.0}})
    data["pipeline"].update(batch_size=500, reload_interval=0.001)
    config = parse_outline(data)

    def swap(raw, summary):
        if summary.batches == 3:
            staged = tmp_path / "model_weights.next"
            staged.write_text(json.dumps(second))
            os.replace(staged, weights)  # the operator guide's hot reload

    with started(config) as host:
        Pipeline(host, config).run(swap)
    records = audit_records(tmp_path)
    hashes = [r["model_version_hash"] for r in records]
    assert len(set(hashes)) == 2 and hashes[0] != hashes[-1]
    assert hashes.index(hashes[-1]) == 1500  # the swap took effect at a batch boundary
    path = tmp_path / "aegis.yaml"
    path.write_text(yaml.safe_dump(data))
    # one decision under each model version, each with history behind it in its run
    for record in (records[1400], records[3900]):
        result = subprocess.run([AEGIS, "replay", "--uetr", record["uetr"], "-c", str(path)],
                                capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "replay equals the record" in result.stdout


def test_replay_reports_an_altered_snapshot(tmp_path):
    source = paysim_slice(tmp_path, 300)
    data = deployment(tmp_path, source, fmt="paysim")
    config = parse_outline(data)
    with started(config) as host:
        Pipeline(host, config).run()
    record = audit_records(tmp_path)[200]
    snapshot = tmp_path / "state" / "snapshots" / f"{record['snapshots']['scoring[0] (rules)']}.json"
    doc = orjson.loads(snapshot.read_bytes())
    doc["config"]["velocity"]["ramp_from"] = 0.1
    snapshot.write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
    path = tmp_path / "aegis.yaml"
    path.write_text(yaml.safe_dump(data))
    result = subprocess.run([AEGIS, "replay", "--uetr", record["uetr"], "-c", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "does not match its name: the file was altered" in result.stderr
