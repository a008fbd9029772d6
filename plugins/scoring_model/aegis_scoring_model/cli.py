"""``aegis model train`` and ``aegis model evaluate`` (added to the ``aegis`` command through the
``aegis.commands`` entry point; imported only when one of them runs)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from aegis_scoring_model.datasets import FORMATS, DataSetError
from aegis_scoring_model.features import DEFAULT_RING_SIZE
from aegis_scoring_model.weights import WeightsError, read_weights

out = Console(width=None if sys.stdout.isatty() else 150)
FORMAT = click.Choice(FORMATS)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def measures_table(title: str, report: dict[str, Any]) -> Table:
    """One row per configuration and level (payments, accounts) with the headline measures."""
    t = report["thresholds"]
    table = Table(title=title, title_justify="left")
    for column in ("configuration", "level", "items", "positive", "PR-AUC", "ROC-AUC", "recall@1%",
                   "recall@2×base", f"P / R ≥{t['investigate_at']}", f"P / R ≥{t['block_at']}", "alerts ≥INV"):
        table.add_column(column, justify="left" if column in ("configuration", "level") else "right",
                         no_wrap=True)
    for name, levels in report["configurations"].items():
        for level, m in levels.items():
            inv, blk = m["investigate"], m["block"]
            table.add_row(name, level, f"{m['items']:,}", f"{m['positives']:,}", _pct(m["pr_auc"]),
                          _pct(m["roc_auc"]), _pct(m["recall_at_1pct"]), _pct(m["recall_at_2x_base"]),
                          f"{_pct(inv['precision'])} / {_pct(inv['recall'])}",
                          f"{_pct(blk['precision'])} / {_pct(blk['recall'])}", _pct(inv["alert_rate"]))
    return table


@click.group()
def model() -> None:
    """Train and evaluate the model scoring plugin's weights file."""


@model.command()
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), required=True,
              help="PaySim folder or part file, AMLSim folder, or labelled JSONL file")
@click.option("--format", "fmt", type=FORMAT, required=True, help="how to read --data")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the weights file to write (replaced atomically)")
@click.option("--train-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.7,
              show_default=True, help="share of the rows, by time, that trains; the later rows are held out")
@click.option("--l2", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="L2 penalty on the standardised weights")
@click.option("--ring-size", type=click.IntRange(2, 1024), default=DEFAULT_RING_SIZE, show_default=True,
              help="payments remembered per account and direction (use the plugin's ring_size)")
def train(data: Path, fmt: str, out_path: Path, train_fraction: float, l2: float, ring_size: int) -> None:
    """Fit the logistic model on the early rows of --data and measure it on the later ones."""
    from aegis_scoring_model.training import train_weights_file

    command = "aegis model " + " ".join(shlex.quote(a) for a in sys.argv[sys.argv.index("train"):]) \
        if "train" in sys.argv else ""
    try:
        spec = train_weights_file(data, fmt, out_path, train_fraction, l2, ring_size, command)  # type: ignore[arg-type]
    except (DataSetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    split = spec.training["split"]
    out.print(f"wrote {out_path}: {len(spec.features)} features; trained on {split['train_payments']:,} payments "
              f"({split['train_positives']} positive), held out {split['held_out_payments']:,} "
              f"({split['held_out_positives']} positive)")
    for view, measured in spec.training["metrics"].items():
        out.print(measures_table(f"held out, balance {view}", {
            "thresholds": {"investigate_at": 0.5, "block_at": 0.8}, "configurations": {"model": measured}}))


@model.command()
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="the weights file to evaluate")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), required=True,
              help="PaySim folder or part file, AMLSim folder, or labelled JSONL file")
@click.option("--format", "fmt", type=FORMAT, required=True, help="how to read --data")
@click.option("--all", "all_rows", is_flag=True, help="measure on every row (a data set the model never saw); "
                                                      "default: the rows after the model's own training cut")
@click.option("--train-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="measure on the rows after this share (by time); default: the model's own")
@click.option("--without-balance", is_flag=True, help="score as a source without balance context")
@click.option("--with-rules", "fatf", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="also measure the rules plugin alone and rules + model (its FATF list file)")
@click.option("-c", "--config", "deployment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="take thresholds and weights from this deployment's decision section")
@click.option("--ring-size", type=click.IntRange(2, 1024), default=None,
              help="the plugin's ring_size; default: the one the model was trained with")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def evaluate(model_path: Path, data: Path, fmt: str, all_rows: bool, train_fraction: float | None,
             without_balance: bool, fatf: Path | None, deployment: Path | None, ring_size: int | None,
             as_json: bool) -> None:
    """Precision and recall at the INVESTIGATE and BLOCK thresholds, PR-AUC, ROC-AUC, alert rate and recall at
    a 1 % alert rate (and, for AMLSim, the same per account) on held-out rows."""
    from aegis.decide import DecisionConfig
    from aegis_scoring_model.evaluation import Scorer, model_decision
    from aegis_scoring_model.evaluation import evaluate as run

    try:
        weights = read_weights(model_path)
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from exc
    trained = weights.spec.training
    split = trained.get("split", {})
    cut = None
    if not all_rows and train_fraction is None:
        train_fraction = split.get("train_fraction")
        if train_fraction is None:
            raise click.ClickException(f"{model_path} records no training split: pass --train-fraction or --all")
    if all_rows:
        train_fraction = None
    base = None
    if deployment is not None:
        from aegis.config import load_outline
        base = load_outline(deployment).decision
    decision = model_decision(base=base or DecisionConfig())
    ring = ring_size or int(trained.get("ring_size", DEFAULT_RING_SIZE))
    model_scorer = Scorer("model", {"weights": str(model_path), "details": False, "ring_size": ring})
    configurations = {"model": [model_scorer]}
    if fatf is not None:
        rules = Scorer("rules", {"geo": {"fatf_list": str(fatf)}, "details": False})
        configurations = {"rules": [rules], "model": [model_scorer], "rules+model": [rules, model_scorer]}
    try:
        report = run(data, fmt, configurations, decision, cut_ns=cut, train_fraction=train_fraction,  # type: ignore[arg-type]
                     without_balance=without_balance)
    except (DataSetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    report["model"] = {"path": str(model_path), "model_version_hash": weights.version}
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    held = report["held_out"]
    out.print(f"{model_path} ({weights.version[:19]}…) on {data} [{fmt}], balance {report['balance']}: "
              f"{held['payments']:,} held-out payments from {held['from'] or 'the first row'} "
              f"({held['positive_payments']:,} positive)")
    out.print(measures_table("held-out detection", report))
