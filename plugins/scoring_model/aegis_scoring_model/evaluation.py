"""Evaluation: replay a labelled data set through the installed scoring plugins and the kernel's
decision rule, and measure detection on the held-out rows.

Each configuration (``model``, ``rules``, ``rules+model``) is a list of plugins loaded by their
entry points, exactly as a deployment loads them; every batch goes through
:func:`aegis.decide.decide`, so the risk measured is the risk a deployment would record. State
builds up from the first row (features are online), but only rows at or after the time cut
count. For AMLSim, whose labels are per account, an account counts as detected when any held-out
payment from or to it is alerted; its score is the highest risk among those payments.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from aegis.decide import DecisionConfig, decide
from aegis.model import Batch
from aegis.testing.harness import PluginHarness
from aegis_scoring_model import metrics
from aegis_scoring_model.catalogue import GROUPS
from aegis_scoring_model.datasets import Format, open_data_set
from aegis_scoring_model.replay import Replay, account_labels, replay, split_time, transaction_label

ALERT_RATE = 0.01


@dataclass(frozen=True)
class Scorer:
    """One scoring plugin of a configuration: its entry-point name and its config section."""

    name: str
    config: dict[str, Any]


def model_decision(prefix: str = "MODEL_", base: DecisionConfig | None = None) -> DecisionConfig:
    """``base`` (default: the kernel's defaults) with weight 1.0 for the model's factors, so the risk
    they add is the model's score; weights already set in ``base`` are kept."""
    base = base or DecisionConfig()
    weights = {f"{prefix}{g}": 1.0 for g in GROUPS} | dict(base.weights)
    return base.model_copy(update={"weights": weights})


def measures(scores: np.ndarray, labels: np.ndarray, decision: DecisionConfig) -> dict[str, Any]:
    """PR-AUC, ROC-AUC, recall and precision at a 1 % alert rate and at twice the base rate, and
    precision/recall/alert rate at the INVESTIGATE and BLOCK thresholds."""
    base = float(labels.mean()) if len(labels) else float("nan")
    recall_1, precision_1 = metrics.recall_at_alert_rate(scores, labels, ALERT_RATE)
    recall_2x, precision_2x = metrics.recall_at_alert_rate(scores, labels, 2 * base)
    return _no_nan({
        "items": len(labels), "positives": int(labels.sum()), "base_rate": base,
        "pr_auc": metrics.average_precision(scores, labels), "roc_auc": metrics.roc_auc(scores, labels),
        "recall_at_1pct": recall_1, "precision_at_1pct": precision_1,
        "recall_at_2x_base": recall_2x, "precision_at_2x_base": precision_2x,
        "investigate": metrics.at_threshold(scores, labels, decision.investigate_at),
        "block": metrics.at_threshold(scores, labels, decision.block_at),
    })


def _no_nan(value: Any) -> Any:
    """``value`` with every NaN (a measure that is undefined, e.g. precision without alerts) as ``None``."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


Derived = Callable[[dict[str, np.ndarray]], np.ndarray]


def _risk_collector(configurations: dict[str, list[tuple[str, PluginHarness]]], decision: DecisionConfig,
                    derived: dict[str, Derived]):
    def on_batch(batch: Batch) -> dict[str, np.ndarray]:
        out = {}
        results = {}
        for name, members in configurations.items():
            scored = []
            for plugin, harness in members:
                key = id(harness)
                if key not in results:  # a plugin shared by configurations scores each batch once
                    results[key] = harness.score(batch)
                scored.append((plugin, results[key]))
            out[name] = decide(batch, scored, decision).risk
        for name, combine in derived.items():
            out[name] = combine(out)
        return out
    return on_batch


def evaluate(data: Path, fmt: Format, configurations: dict[str, Sequence[Scorer]], decision: DecisionConfig,
             cut_ns: int | None = None, train_fraction: float | None = None, without_balance: bool = False,
             derived: dict[str, Derived] | None = None) -> dict[str, Any]:
    """Measure every configuration on the rows at or after the time cut.

    :param cut_ns: held-out rows start here; else at ``train_fraction`` of the stream; else all rows.
    :param without_balance: score as a source without balance context (the balance column removed).
    :param derived: further risk columns computed per batch from the configurations' risks (e.g. a
        decision rule the kernel does not have yet), measured like the others.
    """
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="aegis-eval-") as tmp:
        harnesses: dict[tuple[str, str], PluginHarness] = {}
        members: dict[str, list[tuple[str, PluginHarness]]] = {}
        for name, scorers in configurations.items():
            members[name] = []
            for scorer in scorers:
                key = (scorer.name, repr(sorted(scorer.config.items())))
                if key not in harnesses:
                    harnesses[key] = stack.enter_context(
                        PluginHarness("scoring", scorer.name, scorer.config, Path(tmp) / str(len(harnesses))))
                members[name].append((scorer.name, harnesses[key]))
        rep = replay(open_data_set(data, fmt), mask_balance=without_balance,
                     on_batch=_risk_collector(members, decision, derived or {}))
    return report(rep, fmt, decision, cut_ns, train_fraction, without_balance, data)


def report(rep: Replay, fmt: str, decision: DecisionConfig, cut_ns: int | None, train_fraction: float | None,
           without_balance: bool, data: Path) -> dict[str, Any]:
    """The measures of every risk column in ``rep.extra`` on the held-out rows."""
    if cut_ns is None and train_fraction is not None:
        cut_ns = split_time(rep.created_at_ns, train_fraction)
    held = rep.created_at_ns >= cut_ns if cut_ns is not None else np.ones(rep.n, dtype=bool)
    label = transaction_label(rep, fmt)
    accounts = account_labels(rep)
    results: dict[str, Any] = {}
    for name, risk in rep.extra.items():
        entry = {"payments": measures(risk[held], label[held], decision)}
        if accounts is not None:
            score = metrics.account_scores(rep.debtor[held], rep.creditor[held], risk[held], rep.n_accounts)
            active = score >= 0
            entry["accounts"] = measures(score[active], accounts[active], decision)
        results[name] = entry
    return {
        "data": str(data), "format": fmt, "rows": rep.n, "rejected": len(rep.rejected),
        "held_out": {"from": _iso(cut_ns) if cut_ns is not None else None, "train_fraction": train_fraction,
                     "payments": int(held.sum()), "positive_payments": int(label[held].sum())},
        "balance": "removed" if without_balance else "as in the data",
        "thresholds": {"investigate_at": decision.investigate_at, "block_at": decision.block_at},
        "configurations": results,
    }


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")
