"""Training and evaluation: the fit, the measures, and a CLI-trained model reproduced by ``aegis model evaluate``."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest
from aegis_scoring_model import metrics
from aegis_scoring_model.training import fit_logistic
from aegis_scoring_model.weights import read_weights
from click.testing import CliRunner

from aegis.cli import main
from aegis.testing import samples

ROOT = Path(__file__).resolve().parents[3]
PAYSIM = (ROOT / ".." / "shared" / "data" / "fraud" / "paysim").resolve()


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40_000, 3))
    true = np.array([1.5, -2.0, 0.0])
    y = (rng.random(40_000) < 1 / (1 + np.exp(-(-1.0 + x @ true)))).astype(float)
    intercept, weights, iterations = fit_logistic(x, y, l2=1e-6)
    assert intercept == pytest.approx(-1.0, abs=0.06)
    np.testing.assert_allclose(weights, true, atol=0.06)
    assert iterations < 30


def test_average_precision_and_roc_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, 0, 1, 0, 0])
    assert metrics.average_precision(scores, labels) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert metrics.roc_auc(scores, labels) == pytest.approx(5 / 6)
    tied = np.array([0.5, 0.5, 0.1])
    assert metrics.roc_auc(tied, np.array([1, 0, 0])) == pytest.approx(0.75)  # a tie counts half
    assert metrics.average_precision(tied, np.array([1, 0, 0])) == pytest.approx(0.5)


def test_recall_at_alert_rate_never_exceeds_the_budget():
    scores = np.array([0.9, 0.8, 0.8, 0.8, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0])
    labels = np.array([0, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    assert metrics.recall_at_alert_rate(scores, labels, 0.1) == (0.0, 0.0)  # budget 1 alert: the 0.9
    recall, precision = metrics.recall_at_alert_rate(scores, labels, 0.3)  # 3 fit, the tie of three does not
    assert (recall, precision) == (0.0, 0.0)
    assert metrics.recall_at_alert_rate(scores, labels, 0.4) == (pytest.approx(2 / 3), 0.5)
    at = metrics.at_threshold(scores, labels, 0.8)
    assert at == {"precision": 0.5, "recall": pytest.approx(2 / 3), "alert_rate": 0.4, "alerts": 4}


def test_account_scores_take_the_highest_risk_from_either_side():
    out = metrics.account_scores(np.array([0, 1, 0]), np.array([2, 0, 3]), np.array([0.2, 0.9, 0.1]), 5)
    np.testing.assert_allclose(out, [0.9, 0.9, 0.2, 0.1, -1.0])


@pytest.fixture
def paysim_slice(tmp_path: Path) -> Path:
    """The first 30,000 rows of the real PaySim log (6 frauds: steps 9 and 27)."""
    out = tmp_path / "paysim.csv"
    with open(PAYSIM / "rawLog.part01.csv", "rb") as src:
        out.write_bytes(b"".join(itertools.islice(src, 30_001)))
    return out


def test_cli_trained_model_reproduces_its_metrics_through_evaluate(tmp_path, paysim_slice):
    out = tmp_path / "weights.json"
    runner = CliRunner()
    trained = runner.invoke(main, ["model", "train", "--data", str(paysim_slice), "--format", "paysim",
                                   "--out", str(out), "--train-fraction", "0.5"])
    assert trained.exit_code == 0, trained.output
    assert "wrote" in trained.output and "PR-AUC" in trained.output
    model = read_weights(out)
    recorded = model.spec.training["metrics"]
    split = model.spec.training["split"]
    assert split["train_positives"] > 0 and split["held_out_positives"] > 0
    for flag, view in (([], "as in the data"), (["--without-balance"], "balance removed")):
        evaluated = runner.invoke(main, ["model", "evaluate", "--model", str(out), "--data", str(paysim_slice),
                                         "--format", "paysim", "--json", *flag])
        assert evaluated.exit_code == 0, evaluated.output
        report = json.loads(evaluated.output)
        assert report["configurations"]["model"] == recorded[view]
        assert report["held_out"]["payments"] == split["held_out_payments"]
        assert report["model"]["model_version_hash"] == model.version
    table = runner.invoke(main, ["model", "evaluate", "--model", str(out), "--data", str(paysim_slice),
                                 "--format", "paysim"])
    assert table.exit_code == 0 and "held-out detection" in table.output


def test_evaluate_refuses_a_bad_weights_file(tmp_path, paysim_slice):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1}')
    result = CliRunner().invoke(main, ["model", "evaluate", "--model", str(bad), "--data", str(paysim_slice),
                                       "--format", "paysim"])
    assert result.exit_code != 0 and str(bad) in result.output and "features" in result.output


def test_scoring_never_imports_a_training_library():
    code = ("import sys, aegis_scoring_model.plugin as p; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'torch') "
            "or m in ('aegis_scoring_model.training', 'aegis_scoring_model.evaluation', 'aegis_scoring_model.cli')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_labelled_jsonl_trains_and_learns_a_planted_pattern(tmp_path):
    """Payments that empty the debtor's balance into a never-seen account are the fraud here."""
    rng = np.random.default_rng(3)
    rows = []
    for k in range(4_000):
        debtor, creditor = int(rng.integers(0, 300)), int(rng.integers(0, 300))
        balance = float(np.round(rng.uniform(100, 5_000), 2))
        amount, fraud = float(np.round(balance * rng.uniform(0.01, 0.3), 2)), False
        if k % 97 == 50:
            creditor, amount, fraud = 10_000 + k, balance, True
        tx = samples.transaction(random.Random(k), samples.EPOCH + timedelta(minutes=10 * k), debtor, creditor,
                                 amount=f"{amount:.2f}", currency="EUR", channel="TRANSFER",
                                 debtor_balance_before=f"{balance:.2f}")
        tx["creditor"]["account"] = samples.german_iban(creditor)
        rows.append(orjson.dumps({**tx, "is_fraud": fraud}))
    data = tmp_path / "labelled.jsonl"
    data.write_bytes(b"\n".join(rows) + b"\n")
    out = tmp_path / "w.json"
    result = CliRunner().invoke(main, ["model", "train", "--data", str(data), "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    measured = read_weights(out).spec.training["metrics"]["as in the data"]["payments"]
    assert measured["positives"] >= 10 and measured["pr_auc"] > 0.9


def test_labelled_jsonl_without_labels_is_refused(tmp_path):
    data = tmp_path / "unlabelled.jsonl"
    data.write_bytes(orjson.dumps(samples.transactions(1)[0]) + b"\n")
    result = CliRunner().invoke(main, ["model", "train", "--data", str(data), "--format", "jsonl",
                                       "--out", str(tmp_path / "w.json")])
    assert result.exit_code != 0 and "unlabelled.jsonl:1: a labelled JSONL record is an object with is_fraud" \
        in result.output
