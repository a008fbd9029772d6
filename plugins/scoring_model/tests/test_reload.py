"""Hot reload of the weights file: a good file is swapped in at a batch boundary, a bad one refused."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import pytest
from aegis_scoring_model.engine import ModelEngine
from aegis_scoring_model.features import channel_codes
from aegis_scoring_model.reload import WeightsReloader
from aegis_scoring_model.weights import parse_weights

from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline
from aegis.testing.samples import transactions


def _replace(path: Path, content: bytes) -> None:
    """Replace ``path`` the way operators are told to: write a new file, rename it over the old."""
    fresh = path.with_suffix(".new")
    fresh.write_bytes(content)
    os.replace(fresh, path)


def _retrained(content: bytes, shift: float) -> bytes:
    spec = json.loads(content)
    spec["intercept"] += shift
    return json.dumps(spec).encode()


def _sha(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def test_unchanged_file_reports_nothing(start_model, weights_file):
    h = start_model()
    assert h.call("aegis_reload") is None
    _replace(weights_file, weights_file.read_bytes())  # new inode and mtime, same bytes
    assert h.call("aegis_reload") is None


def test_good_file_is_swapped_in_with_old_and_new_hash(start_model, weights_file, payment):
    h = start_model()
    old = weights_file.read_bytes()
    batch = [payment(1, 2, 250_000.0, 0, balance=250_000.0, channel="TRANSFER")]
    before = h.score(h.batch(batch))
    assert before.versions == {"model_version_hash": _sha(old)}
    new = _retrained(old, 2.0)
    _replace(weights_file, new)
    report = h.call("aegis_reload")
    assert report.ok and report.error is None and report.artefact == str(weights_file)
    assert (report.old_version, report.new_version) == (_sha(old), _sha(new))
    assert "logistic_regression" in report.summary
    after = h.score(h.batch([payment(3, 4, 250_000.0, 0, balance=250_000.0, channel="TRANSFER")]))
    assert after.versions == {"model_version_hash": _sha(new)}
    assert h.call("aegis_reload") is None


def _bad_files(good: bytes) -> dict[str, tuple[bytes, str]]:
    spec = json.loads(good)
    wrong_schema = {**spec, "schema_version": 2}
    renamed = json.loads(good)
    renamed["features"][0]["name"] = "shoe_size"
    nan = json.loads(good)
    nan["features"][5]["mean"] = 12345.5
    return {
        "truncated": (good[: len(good) // 2], "not valid JSON"),
        "schema": (json.dumps(wrong_schema).encode(), "schema_version 2 is not supported"),
        "features": (json.dumps(renamed).encode(), "feature mismatch"),
        "nan": (json.dumps(nan).replace("12345.5", "NaN").encode(), "NaN is not a finite number"),
    }


@pytest.mark.parametrize("kind", ["truncated", "schema", "features", "nan"])
def test_bad_file_is_refused_and_the_old_model_stays(start_model, weights_file, payment, kind):
    h = start_model()
    good = weights_file.read_bytes()
    content, message = _bad_files(good)[kind]
    _replace(weights_file, content)
    report = h.call("aegis_reload")
    assert not report.ok and report.new_version is None
    assert message in report.error and str(weights_file) in report.error
    assert report.old_version == _sha(good)
    result = h.score(h.batch([payment(5, 6, 100.0, 0)]))
    assert result.versions == {"model_version_hash": _sha(good)}
    assert h.call("aegis_reload") is None  # refused once, not at every check
    fixed = _retrained(good, 1.0)
    _replace(weights_file, fixed)  # the operator fixes the file
    assert h.call("aegis_reload").new_version == _sha(fixed)


def test_missing_file_is_refused(start_model, weights_file, payment):
    h = start_model()
    version = _sha(weights_file.read_bytes())
    weights_file.unlink()
    report = h.call("aegis_reload")
    assert not report.ok and "cannot read weights file" in report.error
    assert h.score(h.batch([payment(1, 2, 10.0, 0)])).versions["model_version_hash"] == version


def test_no_batch_is_scored_by_a_half_loaded_model(weights_file, random_stream):
    """A thread swaps the file back and forth and reloads while batches are scored: every batch's
    scores are exactly those of one of the two models, and its version names that model."""
    a = weights_file.read_bytes()
    b = _retrained(a, 3.0)
    models = {_sha(a): parse_weights(a, weights_file), _sha(b): parse_weights(b, weights_file)}
    engine = ModelEngine(models[_sha(a)])
    reloader = WeightsReloader(engine, weights_file)
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        while not stop.is_set():
            _replace(weights_file, b if swaps % 2 == 0 else a)
            report = reloader.check()
            swaps += bool(report and report.ok)

    thread = threading.Thread(target=swapper)
    thread.start()
    seen = set()
    try:
        columns = random_stream(60_000, seed=4, accounts=500)
        for start in range(0, 60_000, 500):
            chunk = tuple(c[start:start + 500] for c in columns)
            scores = engine.score_arrays(*chunk)
            used = scores.model
            seen.add(used.version)
            codes = channel_codes(chunk[5], used.channel_codes)
            other = models[_sha(b) if used.version == _sha(a) else _sha(a)]
            np.testing.assert_array_equal(scores.probability,
                                          ModelEngine.score_features(scores.features, codes, used).probability)
            assert not np.array_equal(scores.probability,
                                      ModelEngine.score_features(scores.features, codes, other).probability)
    finally:
        stop.set()
        thread.join()
    assert swaps >= 2 and seen == set(models)


def test_swap_during_a_run_changes_the_hash_at_a_batch_boundary(tmp_path, weights_file, caplog):
    source = tmp_path / "payments.jsonl"
    source.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in transactions(400, seed=9)))
    audit = tmp_path / "audit" / "audit.jsonl"
    config = parse_outline({
        "deployment": "reload-test", "security_mode": "permissive",
        "secrets": {"plugin": "env", "config": {"key_dir": str(tmp_path / "keys")}},
        "ingress": [{"plugin": "file", "config": {"path": str(source), "format": "jsonl"}}],
        "scoring": [{"plugin": "model", "config": {"weights": str(weights_file), "details": False}}],
        "audit": [{"plugin": "jsonl", "config": {"path": str(audit)}}],
        "pipeline": {"batch_size": 50, "reload_interval": 0.001, "state_dir": str(tmp_path / "state")},
    })
    old = weights_file.read_bytes()
    new = _retrained(old, 1.5)

    def on_batch(raw, summary) -> None:
        if summary.batches == 3:
            _replace(weights_file, new)
            time.sleep(0.005)  # past reload_interval, so the check right after this batch sees it

    with caplog.at_level(logging.WARNING, logger="aegis"), started(config) as host:
        summary = Pipeline(host, config).run(on_batch)
    assert summary.transactions == 400
    hashes = [orjson.loads(line)["model_version_hash"] for line in audit.read_bytes().splitlines()]
    switch = hashes.index(_sha(new))
    assert switch % 50 == 0 and switch >= 150, "the model changes between batches, after the file changed"
    assert hashes[:switch] == [_sha(old)] * switch and hashes[switch:] == [_sha(new)] * (400 - switch)
    assert [(r.old_version, r.new_version) for r in summary.reloads if r.ok] == [(_sha(old), _sha(new))]
    assert any("Rules Reloaded" in r.getMessage() and _sha(old) in r.getMessage() and _sha(new) in r.getMessage()
               for r in caplog.records)
