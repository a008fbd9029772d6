"""End-to-end runs of the first-party plugins through the kernel."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
import yaml

from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline
from aegis.testing.samples import transactions

from .conftest import PAYSIM, deployment

AEGIS = str(Path(sys.executable).with_name("aegis"))


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit" / "audit.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def dead_letters(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit" / "audit.dead_letter.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def write_jsonl(path: Path, docs: list) -> Path:
    path.write_bytes(b"".join((d if isinstance(d, bytes) else orjson.dumps(d)) + b"\n" for d in docs))
    return path


def paysim_slice(tmp_path: Path, rows: int) -> Path:
    """The first ``rows`` data rows of the real PaySim log (read-only source, copied slice)."""
    out = tmp_path / "paysim.csv"
    with open(PAYSIM / "rawLog.part01.csv", "rb") as src:
        out.write_bytes(b"".join(itertools.islice(src, rows + 1)))
    return out


def run_config(config_dict: dict, on_batch=None):
    config = parse_outline(config_dict)
    with started(config) as host:
        return Pipeline(host, config).run(on_batch)


@pytest.mark.parametrize("decode_workers", [0, 2])
def test_jsonl_end_to_end_with_rejects(tmp_path, decode_workers):
    txs = transactions(500, seed=3)
    docs: list = [orjson.dumps(t) for t in txs]
    docs[10] = b'{"uetr": "broken'
    docs[20] = orjson.dumps({**txs[20], "amount": "0"})
    docs[30] = orjson.dumps({**txs[30], "creditor": {**txs[30]["creditor"], "country": "XX"}})
    source = write_jsonl(tmp_path / "in.jsonl", docs)
    config = deployment(tmp_path, source)
    config["pipeline"]["decode_workers"] = decode_workers  # worker processes must change nothing but speed
    summary = run_config(config)
    records = audit_records(tmp_path)
    expected = [t["uetr"] for i, t in enumerate(txs) if i not in (10, 20, 30)]
    assert [r["uetr"] for r in records] == expected
    assert summary.transactions == 497 and summary.rejects == 3
    assert sum(summary.decisions.values()) == 497
    dead = dead_letters(tmp_path)
    assert [d["origin"] for d in dead] == ["in.jsonl:11", "in.jsonl:21", "in.jsonl:31"]
    assert "creditor.country" in dead[2]["reason"]
    assert all(r["rules_version"].startswith("sha256:") for r in records)
    assert {r["decision"] for r in records} <= {"CLEAR", "INVESTIGATE", "BLOCK"}


def test_high_risk_geography_is_flagged(tmp_path):
    txs = transactions(40, seed=5)
    for t in txs:
        t["creditor"]["country"] = "DE"
    txs[7]["creditor"]["country"] = "KP"
    source = write_jsonl(tmp_path / "in.jsonl", txs)
    run_config(deployment(tmp_path, source, decision={"weights": {"GEO": 0.9}}))
    records = {r["uetr"]: r for r in audit_records(tmp_path)}
    flagged = records[txs[7]["uetr"]]
    assert flagged["decision"] == "BLOCK" and flagged["reason_code"] == "RC_HIGH_RISK_GEO"
    assert flagged["risk_factors"]["GEO"] == pytest.approx(0.9)
    assert "KP" in flagged["explanation"]["GEO"]


def test_a_factor_without_its_own_weight_is_reported_once(tmp_path, caplog):
    source = write_jsonl(tmp_path / "in.jsonl", transactions(600, seed=6))
    config = deployment(tmp_path, source, decision={"weights": {"GEO": 0.9}, "default_weight": 0.25})
    with caplog.at_level("WARNING", logger="aegis.pipeline"):
        summary = run_config(config)
    assert summary.batches > 1
    warned = [r.getMessage() for r in caplog.records if "has no weight in decision.weights" in r.getMessage()]
    assert sorted(m.split()[1] for m in warned) == ["AMOUNT", "VELOCITY"]  # once each, GEO has its weight
    assert all("default_weight 0.25" in m and "scoring[0] (rules)" in m for m in warned)


def test_paysim_sample_is_screened_and_labels_stay_out(tmp_path):
    source = paysim_slice(tmp_path, 3000)
    summary = run_config(deployment(tmp_path, source, fmt="paysim"))
    records = audit_records(tmp_path)
    assert summary.transactions + summary.rejects == 3000
    assert len(records) == summary.transactions
    assert len({r["uetr"] for r in records}) == len(records)
    assert all("isFraud" not in orjson.dumps(r["transaction"]).decode() for r in records[:50])
    assert records[0]["transaction"]["debtor"]["account"].startswith("C")


def test_failing_scoring_plugin_fails_closed_and_run_continues(tmp_path, fake_dist):
    fake_dist("acme-flaky", "0.3.1", {"aegis.scoring": {"flaky": "acme_flaky:Plugin"}}, {"acme_flaky": """
        from pydantic import BaseModel, ConfigDict
        from aegis.hookspecs import hookimpl

        class Plugin:
            class Config(BaseModel):
                model_config = ConfigDict(extra="forbid")

            def __init__(self, config):
                self.calls = 0

            @hookimpl
            def aegis_scoring_score(self, batch):
                self.calls += 1
                if self.calls == 2:
                    raise MemoryError("feature store unavailable")
                import numpy as np
                from aegis.model import FactorScores, ScoreResult
                return ScoreResult({"FLAKY": FactorScores(np.zeros(batch.n), "RC_FLAKY")})
    """})
    txs = transactions(30, seed=8)
    source = write_jsonl(tmp_path / "in.jsonl", txs)
    config = deployment(tmp_path, source, scoring=[{"plugin": "flaky"}])
    config["pipeline"]["batch_size"] = 10
    summary = run_config(config)
    records = audit_records(tmp_path)
    assert len(records) == 30 and summary.screening_errors == 10
    second = records[10:20]
    assert {r["decision"] for r in second} == {"INVESTIGATE"}
    assert {r["reason_code"] for r in second} == {"RC_SCREENING_ERROR"}
    assert "feature store unavailable" in second[0]["errors"][0]
    assert {r["decision"] for r in records[:10] + records[20:]} == {"CLEAR"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def test_metrics_scraped_during_a_run_match_what_flowed(tmp_path):
    port = free_port()
    txs = transactions(1200, seed=9)
    for i, t in enumerate(txs):
        t["creditor"]["country"] = "KP" if i < 40 else "DE"
    source = write_jsonl(tmp_path / "in.jsonl", txs)
    config = deployment(tmp_path, source, decision={"weights": {"GEO": 1.0}},
                        metrics=[{"plugin": "prometheus", "config": {"host": "127.0.0.1", "port": port}}])
    config["pipeline"]["batch_size"] = 100
    seen = []

    def on_batch(raw, summary):
        if summary.batches == 6:
            seen.append((scrape(port), summary.transactions, summary.decisions["BLOCK"]))

    summary = run_config(config, on_batch)
    values, flowed, blocked = seen[0]
    assert values["aegis_transactions_total"] == flowed == 600
    assert values["aegis_risk_blocks_total"] == blocked == 40
    assert values["aegis_drops_total"] == 0
    assert values["aegis_ingress_tps"] > 0
    assert 0 <= values["aegis_ring_buffer_usage"] <= 100
    assert summary.transactions == 1200


def test_sigterm_mid_run_loses_nothing_and_restart_completes(tmp_path):
    config = deployment(tmp_path, PAYSIM, fmt="paysim")
    config["pipeline"]["batch_size"] = 512
    path = tmp_path / "aegis.yaml"
    path.write_text(yaml.safe_dump(config))
    audit = tmp_path / "audit" / "audit.jsonl"
    env = {**os.environ, "AEGIS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([AEGIS, "run", "-c", str(path), "--json", "--no-progress"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not audit.exists() or audit.stat().st_size < 2_000_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    first = orjson.loads(out.splitlines()[-1])
    assert 0 < first["transactions"] < 159_903, "the signal must arrive mid-run"
    assert b"SIGTERM" in err

    done = subprocess.run([AEGIS, "run", "-c", str(path), "--json", "--no-progress"], env=env,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    second = orjson.loads(done.stdout.splitlines()[-1])
    uetrs = [orjson.loads(line)["uetr"] for line in audit.read_bytes().splitlines()]
    dead = dead_letters(tmp_path)
    assert len(uetrs) == len(set(uetrs)), "a transaction was audited twice"
    assert len(uetrs) + len(dead) == 159_903, "a transaction was lost"
    assert first["transactions"] + second["transactions"] == len(uetrs)
