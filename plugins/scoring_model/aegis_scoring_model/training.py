"""Training: the feature recipe, an L2-regularised logistic regression fitted by Newton's method (numpy
only), and the weights file it writes.

Rows before the time cut train the model; the rows after it are never used for fitting. Each
training payment is used twice, once with its balance and once as a source without balance
context would deliver it, so one model serves both kinds of source. Scoring never imports this
module.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from aegis.model import Batch
from aegis_scoring_model.catalogue import BASE_FEATURES, BASE_INDEX, CHANNEL_PREFIX, default_group, parse_feature
from aegis_scoring_model.datasets import Format, open_data_set
from aegis_scoring_model.engine import feature_values
from aegis_scoring_model.features import DEFAULT_RING_SIZE, FeatureEngine, batch_channels, channel_codes
from aegis_scoring_model.replay import Replay, replay, split_time, transaction_label
from aegis_scoring_model.weights import FeatureSettings, FeatureWeight, WeightsFile, dump_weights

#: Channels whose money flows from creditor to debtor, per data format.
CREDIT_CHANNELS: dict[str, list[str]] = {"paysim": ["CASH_IN"], "amlsim": [], "jsonl": []}
#: Base features that are crossed with every channel (their meaning depends on the channel).
CROSSED = ("log_amount", "drain_share", "drained", "pass_through", "creditor_new", "debtor_history")
#: Products of two base features: draining an account into a new one, or passing money straight on.
PAIRS = ("drained*creditor_new", "drained*pass_through", "new_amount*repeat_to_creditor_24h")
#: Activity counts of both parties, crossed pairwise (squares included): a second-order surface over
#: how busy, and how exposed to unusual payments, the debtor and the creditor are.
COUNTS = ("debtor_history", "creditor_history", "debtor_received", "creditor_received", "debtor_exposure",
          "creditor_exposure")
COUNT_CROSSES = tuple(f"{a}*{b}" for i, a in enumerate(COUNTS) for b in COUNTS[i:])
MAX_CHANNELS = 16
DEFAULT_L2 = 1.0
DEFAULT_TRAIN_FRACTION = 0.7


def channel_vocabulary(channels: list[str | None], limit: int = MAX_CHANNELS) -> list[str]:
    """The most frequent channels of the training rows (ties by name), at most ``limit``."""
    counts = Counter(c for c in channels if c is not None)
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def recipe(channels: list[str]) -> list[str]:
    """Base features, :data:`PAIRS`, :data:`COUNT_CROSSES`, channel indicators, :data:`CROSSED` × each channel."""
    names = list(BASE_FEATURES) + list(PAIRS) + list(COUNT_CROSSES)
    for channel in channels:
        indicator = f"{CHANNEL_PREFIX}{channel}"
        names.append(indicator)
        names.extend(f"{base}*{indicator}" for base in CROSSED)
    return names


def design(names: list[str], channels: list[str], rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Raw (unclipped, unscaled) values of the named features for every row."""
    refs = [parse_feature(name, channels) for name in names]
    return feature_values(np.array([r.first for r in refs], dtype=np.int64),
                          np.array([r.second for r in refs], dtype=np.int64), rows, codes)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, max_iter: int = 100, tol: float = 1e-9
                 ) -> tuple[float, np.ndarray, int]:
    """Minimise Σ log-loss + l2/2 · |w|² (the intercept is not penalised) by damped Newton steps.

    :returns: (intercept, weights, iterations).
    """
    n, m = x.shape
    xb = np.hstack([np.ones((n, 1)), x])
    penalty = np.full(m + 1, l2)
    penalty[0] = 1e-12
    rate = float(np.clip(y.mean(), 1e-9, 1 - 1e-9))
    w = np.zeros(m + 1)
    w[0] = math.log(rate / (1 - rate))

    def loss(v: np.ndarray) -> float:
        z = xb @ v
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * v * v))

    current = loss(w)
    for iteration in range(1, max_iter + 1):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        gradient = xb.T @ (p - y) + penalty * w
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        t = 1.0
        while True:
            candidate = w - t * step
            value = loss(candidate)
            if value <= current or t < 1e-8:
                break
            t *= 0.5
        w, improvement, current = candidate, current - value, value
        if np.max(np.abs(t * step)) < tol or improvement < tol * max(1.0, abs(current)):
            return float(w[0]), w[1:], iteration
    return float(w[0]), w[1:], max_iter


@dataclass(frozen=True)
class Fitted:
    """A fitted model as a weights-file spec, plus what training saw."""

    spec: WeightsFile
    rows: int
    positives: int
    dropped: list[str]
    iterations: int


def fit(replay_with: Replay, replay_without: Replay | None, label: np.ndarray, train: np.ndarray,
        settings: FeatureSettings, l2: float = DEFAULT_L2) -> Fitted:
    """Fit the recipe on the ``train`` rows (with and, when given, without balance context).

    Features constant on the training rows are left out (their weight is undetermined); every
    kept feature is clipped to its training range, standardised, and weighted.
    """
    channels = settings.channels
    names = recipe(channels)
    blocks = []
    for rep in (replay_with, replay_without):
        if rep is None:
            continue
        assert rep.rows is not None
        codes = channel_codes(rep.channels, {c: i for i, c in enumerate(channels)})
        blocks.append(design(names, channels, rep.rows[train], codes[train]))
    x = np.vstack(blocks)
    y = np.tile(label[train].astype(np.float64), len(blocks))
    lo, hi = x.min(axis=0), x.max(axis=0)
    std = x.std(axis=0)
    keep = std > 1e-12
    dropped = [n for n, k in zip(names, keep, strict=True) if not k]
    x, lo, hi, std = x[:, keep], lo[keep], hi[keep], std[keep]
    mean = x.mean(axis=0)
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    intercept, weights, iterations = fit_logistic((x - mean) / std, y, l2)
    features = [FeatureWeight(name=n, group=default_group(n), mean=float(mu), std=float(sd), clip=(float(a), float(b)),
                              weight=float(w))
                for n, mu, sd, a, b, w in zip(kept, mean, std, lo, hi, weights, strict=True)]
    spec = WeightsFile(schema_version=1, model_type="logistic_regression", intercept=intercept, features=features,
                       feature_settings=settings)
    return Fitted(spec=spec, rows=int(train.sum()), positives=int(label[train].sum()), dropped=dropped,
                  iterations=iterations)


def replay_for_training(data: Path, fmt: Format, ring_size: int) -> tuple[Replay, np.ndarray | None]:
    """One pass over the data: base feature rows as delivered, and (when any payment carries a
    balance) the rows a source without balance context would give."""
    settings = FeatureSettings(credit_channels=CREDIT_CHANNELS.get(fmt, []))
    masked = FeatureEngine(ring_size)
    credit = frozenset(settings.credit_channels)
    thresholds = np.array(settings.reporting_thresholds)

    def without_balance_rows(batch: Batch) -> dict[str, np.ndarray]:
        flags = np.fromiter((c in credit for c in batch_channels(batch)), dtype=np.bool_, count=batch.n)
        return {"rows": masked.compute(batch.debtor_account, batch.creditor_account, batch.amount,
                                       batch.created_at_ns, np.full(batch.n, np.nan), flags, thresholds,
                                       settings.min_history)}

    rep = replay(open_data_set(data, fmt), settings, ring_size, on_batch=without_balance_rows)
    assert rep.rows is not None
    has_balance = bool(rep.rows[:, BASE_INDEX["has_balance"]].any())
    return rep, rep.extra.pop("rows") if has_balance else None


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to a new file beside ``path`` and rename it over ``path`` (what hot reload expects)."""
    path = Path(path)
    fresh = path.with_name(f".{path.name}.new")
    fresh.write_bytes(content)
    os.replace(fresh, path)


def train_weights_file(data: Path, fmt: Format, out: Path, train_fraction: float = DEFAULT_TRAIN_FRACTION,
                       l2: float = DEFAULT_L2, ring_size: int = DEFAULT_RING_SIZE, command: str = "") -> WeightsFile:
    """Train on the rows before the time cut, measure on the rows after it, write ``out``.

    The measures written into the file's ``training.metrics`` are those ``aegis model evaluate``
    reports for the same file, data and cut.
    """
    from aegis_scoring_model.evaluation import Scorer, evaluate, model_decision

    rep, masked_rows = replay_for_training(data, fmt, ring_size)
    cut = split_time(rep.created_at_ns, train_fraction)
    train = rep.created_at_ns < cut
    label = transaction_label(rep, fmt)
    if not label[train].any():
        raise ValueError(f"{data}: no positive payment before the time cut ({train_fraction:.0%} of the rows); "
                         f"raise --train-fraction")
    settings = FeatureSettings(channels=channel_vocabulary([c for c, k in zip(rep.channels, train, strict=True) if k]),
                               credit_channels=CREDIT_CHANNELS.get(fmt, []))
    without = replace(rep, rows=masked_rows) if masked_rows is not None else None
    fitted = fit(rep, without, label, train, settings, l2)
    training: dict[str, Any] = {
        "data_set": f"{fmt} data {Path(data).name!r} ({rep.n:,} payments)", "data_path": str(data), "format": fmt,
        "trained_at": datetime.now(UTC).date().isoformat(), "command": command,
        "split": {"train_fraction": train_fraction, "held_out_from_ns": cut,
                  "train_payments": fitted.rows, "train_positives": fitted.positives,
                  "held_out_payments": int((~train).sum()), "held_out_positives": int(label[~train].sum())},
        "augmented_without_balance": without is not None, "l2": l2, "ring_size": ring_size,
        "newton_iterations": fitted.iterations, "constant_features_left_out": fitted.dropped,
    }
    draft = fitted.spec.model_copy(update={"training": training})
    write_atomically(out, dump_weights(draft))
    scorer = {"model": [Scorer("model", {"weights": str(out), "details": False, "ring_size": ring_size})]}
    decision = model_decision()
    measured = {"as in the data": evaluate(data, fmt, scorer, decision, cut_ns=cut)["configurations"]["model"]}
    if without is not None:
        measured["balance removed"] = evaluate(data, fmt, scorer, decision, cut_ns=cut,
                                               without_balance=True)["configurations"]["model"]
    final = draft.model_copy(update={"training": {**training, "metrics": measured}})
    write_atomically(out, dump_weights(final))
    return final
