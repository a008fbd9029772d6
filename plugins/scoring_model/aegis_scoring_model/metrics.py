"""Detection measures over scores and labels: PR-AUC, ROC-AUC, recall at an alert rate, and
precision/recall at a threshold, for payments and (AMLSim) for accounts.

PR-AUC is average precision (the step-wise area, as scikit-learn computes it); ROC-AUC is the
Mann-Whitney statistic with ties counted half. Both handle ties in the scores exactly.
"""

from __future__ import annotations

import numpy as np


def _check(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must be 1-d arrays of one length")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    return s, y


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve, Σ (R_k - R_{k-1}) P_k over distinct thresholds."""
    s, y = _check(scores, labels)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[last_of_tie]
    alerts = last_of_tie + 1
    recall = tp / positives
    precision = tp / alerts
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    s, y = _check(scores, labels)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    average = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def recall_at_alert_rate(scores: np.ndarray, labels: np.ndarray, rate: float) -> tuple[float, float]:
    """Recall and precision when the top ``rate`` share of items is alerted.

    The budget is ``floor(rate · n)`` alerts (at least 1); a tie at the cut is alerted only when
    the whole tie fits, so the alert rate never exceeds ``rate``.
    """
    s, y = _check(scores, labels)
    positives = int(y.sum())
    budget = max(int(np.floor(rate * len(s))), 1)
    if positives == 0:
        return float("nan"), float("nan")
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    k = budget
    if k < len(s) and s_sorted[k - 1] == s_sorted[k]:
        k = int(np.searchsorted(-s_sorted, -s_sorted[k - 1], side="left"))
    hits = int(y[order[:k]].sum())
    return hits / positives, (hits / k if k else float("nan"))


def at_threshold(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and alert rate of alerting every item scored at or above ``threshold``."""
    s, y = _check(scores, labels)
    alerted = s >= threshold
    n_alerts = int(alerted.sum())
    tp = int((alerted & y).sum())
    positives = int(y.sum())
    return {"precision": tp / n_alerts if n_alerts else float("nan"),
            "recall": tp / positives if positives else float("nan"),
            "alert_rate": n_alerts / len(s) if len(s) else float("nan"), "alerts": n_alerts}


def account_scores(debtor: np.ndarray, creditor: np.ndarray, risk: np.ndarray, n_accounts: int) -> np.ndarray:
    """Each account's highest risk over the payments from or to it (-1 where it had none)."""
    out = np.full(n_accounts, -1.0)
    np.maximum.at(out, np.asarray(debtor, dtype=np.int64), risk)
    np.maximum.at(out, np.asarray(creditor, dtype=np.int64), risk)
    return out
