"""The feature engine: batch columns in, one row of base features per payment out, state kept per account.

Training and scoring both compute features here, so a model is always scored on exactly the
features it was trained on. An engine is used by one thread; it is not thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aegis.model import Batch
from aegis_scoring_model.catalogue import N_BASE
from aegis_scoring_model.kernels import feature_kernel
from aegis_scoring_model.state import AccountState

DEFAULT_RING_SIZE = 16


def channel_codes(channels: Sequence[str | None], vocabulary: dict[str, int]) -> np.ndarray:
    """Each payment's channel as its index in ``vocabulary`` (``-1``: absent or not in it)."""
    get = vocabulary.get
    return np.fromiter((get(c, -1) if c is not None else -1 for c in channels), dtype=np.int64,
                       count=len(channels))


def batch_channels(batch: Batch) -> list[str | None]:
    """The channel of every payment of ``batch`` (the columnar batch has no channel column)."""
    return [t.channel for t in batch.transactions]


class FeatureEngine:
    """Computes :data:`~aegis_scoring_model.catalogue.BASE_FEATURES` over per-account state.

    :param ring_size: payments remembered per account and direction (out and in).
    """

    def __init__(self, ring_size: int = DEFAULT_RING_SIZE):
        self.ring_size = ring_size
        self.state = AccountState(ring_size)

    def compute(self, debtor_account: np.ndarray, creditor_account: np.ndarray, amount: np.ndarray,
                created_at_ns: np.ndarray, debtor_balance_before: np.ndarray, credit: np.ndarray,
                reporting_thresholds: np.ndarray, min_history: int) -> np.ndarray:
        """Feature rows (``n × N_BASE`` float64) for one batch given as columns, in order.

        :param debtor_account: dense account ids (int64, >= 0), as are ``creditor_account``.
        :param amount: major units (float64).
        :param created_at_ns: ns since the Unix epoch, UTC (int64).
        :param debtor_balance_before: float64, NaN where absent.
        :param credit: bool, True where money flows from creditor to debtor (e.g. a cash deposit).
        :param reporting_thresholds: amounts whose last 10 % below score ``under_threshold``.
        :param min_history: earlier payments a debtor needs before its amount z-scores count.
        """
        debtor = np.ascontiguousarray(debtor_account, dtype=np.int64)
        creditor = np.ascontiguousarray(creditor_account, dtype=np.int64)
        n = debtor.shape[0]
        columns = {"creditor_account": creditor, "amount": amount, "created_at_ns": created_at_ns,
                   "debtor_balance_before": debtor_balance_before, "credit": credit}
        wrong = {k: len(v) for k, v in columns.items() if len(v) != n}
        if wrong:
            raise ValueError(f"columns differ in length from debtor_account ({n}): {wrong}")
        out = np.empty((n, N_BASE))
        if n == 0:
            return out
        low = min(int(debtor.min()), int(creditor.min()))
        if low < 0:
            raise ValueError(f"account ids must be >= 0, got {low}")
        self.state.ensure(max(int(debtor.max()), int(creditor.max())))
        s = self.state
        feature_kernel(debtor, creditor, np.ascontiguousarray(amount, dtype=np.float64),
                       np.ascontiguousarray(created_at_ns, dtype=np.int64),
                       np.ascontiguousarray(debtor_balance_before, dtype=np.float64),
                       np.ascontiguousarray(credit, dtype=np.bool_),
                       np.ascontiguousarray(reporting_thresholds, dtype=np.float64), int(min_history),
                       s.accounts, s.out_ring, s.in_ring, out)
        return out
