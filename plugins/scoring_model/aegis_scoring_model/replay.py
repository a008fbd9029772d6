"""Replaying a labelled data set in time order: the columns and labels of every payment, the feature
rows the engine computed online (each from what the stream had shown before it), and the
time split that separates training rows from held-out rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from aegis.model import Batch
from aegis_scoring_model.datasets import DataSet
from aegis_scoring_model.features import DEFAULT_RING_SIZE, FeatureEngine, batch_channels
from aegis_scoring_model.weights import FeatureSettings

HOUR_NS = 3_600_000_000_000


@dataclass
class Replay:
    """Every payment of a data set as columns, in stream order."""

    debtor: np.ndarray
    creditor: np.ndarray
    created_at_ns: np.ndarray
    amount: np.ndarray
    balance: np.ndarray  # debtor balance before (NaN where absent or removed)
    channels: list[str | None]
    labels: dict[str, np.ndarray]
    rows: np.ndarray | None = None  # base feature rows, when features were computed
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # per-payment outputs of on_batch callbacks
    rejected: list[str] = field(default_factory=list)
    n_accounts: int = 0

    @property
    def n(self) -> int:
        return len(self.debtor)


def without_balance(batch: Batch) -> Batch:
    """``batch`` as a source without balance context would deliver it (balance column all NaN)."""
    return replace(batch, debtor_balance_before=np.full(batch.n, np.nan))


def replay(data: DataSet, settings: FeatureSettings | None = None, ring_size: int = DEFAULT_RING_SIZE,
           mask_balance: bool = False,
           on_batch: Callable[[Batch], dict[str, np.ndarray]] | None = None) -> Replay:
    """Stream ``data`` once; compute base features with ``settings`` (skipped when ``None``) and call
    ``on_batch`` on every batch, concatenating the arrays it returns."""
    engine = FeatureEngine(ring_size) if settings is not None else None
    credit_channels = frozenset(settings.credit_channels) if settings is not None else frozenset()
    thresholds = np.array(settings.reporting_thresholds if settings is not None else [], dtype=np.float64)
    parts: dict[str, list] = {k: [] for k in ("debtor", "creditor", "created_at_ns", "amount", "balance", "rows")}
    channels: list[str | None] = []
    labels: dict[str, list[np.ndarray]] = {}
    extra: dict[str, list[np.ndarray]] = {}
    for batch in data.batches:
        if mask_balance:
            batch = without_balance(batch)
        batch_channel = batch_channels(batch)
        channels.extend(batch_channel)
        parts["debtor"].append(batch.debtor_account)
        parts["creditor"].append(batch.creditor_account)
        parts["created_at_ns"].append(batch.created_at_ns)
        parts["amount"].append(batch.amount)
        parts["balance"].append(batch.debtor_balance_before)
        for key, value in batch.labels.items():
            labels.setdefault(key, []).append(np.asarray(value, dtype=bool))
        if engine is not None and settings is not None:
            credit = np.fromiter((c in credit_channels for c in batch_channel), dtype=np.bool_, count=batch.n)
            parts["rows"].append(engine.compute(batch.debtor_account, batch.creditor_account, batch.amount,
                                                batch.created_at_ns, batch.debtor_balance_before, credit,
                                                thresholds, settings.min_history))
        if on_batch is not None:
            for key, value in on_batch(batch).items():
                extra.setdefault(key, []).append(np.asarray(value))
    if not parts["debtor"]:
        raise ValueError(f"{data.path}: no valid payment in the data set ({len(data.rejected)} rejected)")
    return Replay(
        debtor=np.concatenate(parts["debtor"]), creditor=np.concatenate(parts["creditor"]),
        created_at_ns=np.concatenate(parts["created_at_ns"]), amount=np.concatenate(parts["amount"]),
        balance=np.concatenate(parts["balance"]),
        channels=channels, labels={k: np.concatenate(v) for k, v in labels.items()},
        rows=np.concatenate(parts["rows"]) if parts["rows"] else None,
        extra={k: np.concatenate(v) for k, v in extra.items()}, rejected=list(data.rejected),
        n_accounts=len(data.accounts))


def split_time(created_at_ns: np.ndarray, train_fraction: float) -> int:
    """The cut between training and held-out rows: the time of the row at ``train_fraction`` of the
    stream (by time), floored to the hour; rows before it train, rows at or after it are held out."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    ordered = np.sort(created_at_ns)
    at = ordered[min(int(train_fraction * len(ordered)), len(ordered) - 1)]
    return int(at // HOUR_NS * HOUR_NS)


def transaction_label(replay_: Replay, fmt: str) -> np.ndarray:
    """The per-payment training label: ``is_fraud``; for AMLSim a payment between two flagged accounts."""
    if "is_fraud" in replay_.labels:
        return replay_.labels["is_fraud"]
    if {"debtor_fraud", "creditor_fraud"} <= set(replay_.labels):
        return replay_.labels["debtor_fraud"] & replay_.labels["creditor_fraud"]
    raise ValueError(f"the {fmt} data set carries no labels (is_fraud, or debtor_fraud/creditor_fraud)")


def account_labels(replay_: Replay) -> np.ndarray | None:
    """Per dense account id: flagged or not (AMLSim); ``None`` when labels are per payment only."""
    if not {"debtor_fraud", "creditor_fraud"} <= set(replay_.labels):
        return None
    out = np.zeros(replay_.n_accounts, dtype=bool)
    out[replay_.debtor[replay_.labels["debtor_fraud"]]] = True
    out[replay_.creditor[replay_.labels["creditor_fraud"]]] = True
    return out
