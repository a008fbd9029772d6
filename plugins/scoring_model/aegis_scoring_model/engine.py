"""The model engine: raw columns in, probability and per-group contributions out, no pydantic in between.

The plugin wraps it for the kernel; training, evaluation and benchmarks call it directly. The
active :class:`~aegis_scoring_model.weights.LinearModel` is read once per batch, so a swap
(:meth:`ModelEngine.swap`) takes effect at the next batch and never inside one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aegis_scoring_model.catalogue import GROUPS, NO_SOURCE
from aegis_scoring_model.features import DEFAULT_RING_SIZE, FeatureEngine, channel_codes
from aegis_scoring_model.kernels import score_kernel
from aegis_scoring_model.weights import LinearModel


@dataclass(frozen=True)
class ModelScores:
    """One batch's scores and what explaining them needs."""

    probability: np.ndarray  # σ(logit), calibrated on the training data
    contributions: np.ndarray  # (n, len(GROUPS)): each group's share of probability - p_ref, all >= 0
    features: np.ndarray  # (n, N_BASE) base feature rows
    channel: np.ndarray  # int64 channel codes in the model's vocabulary (-1: none)
    model: LinearModel

    @property
    def score(self) -> np.ndarray:
        """The model's risk score: probability above the reference payment's (= Σ contributions)."""
        return self.probability - self.model.p_ref

    def group(self, name: str) -> np.ndarray:
        return self.contributions[:, list(GROUPS).index(name)]


def feature_values(first: np.ndarray, second: np.ndarray, features: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Raw values (``n × m``) of model features given by their sources, in plain numpy."""
    def source(s: int) -> np.ndarray:
        if s == NO_SOURCE:
            return np.ones(features.shape[0])
        if s >= 0:
            return features[:, s]
        return (channel == -s - 1).astype(np.float64)

    if len(first) == 0:
        return np.zeros((features.shape[0], 0))
    return np.column_stack([source(int(a)) * source(int(b)) for a, b in zip(first, second, strict=True)])


def model_values(model: LinearModel, features: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Each model feature's clipped value for every row (``n × m``), as the score kernel computes it."""
    return np.clip(feature_values(model.first, model.second, features, channel), model.lo, model.hi)


class ModelEngine:
    """Features over per-account state, then the active model.

    :param model: the model to start with.
    :param ring_size: payments remembered per account and direction.
    """

    def __init__(self, model: LinearModel, ring_size: int = DEFAULT_RING_SIZE):
        self.model = model
        self.features = FeatureEngine(ring_size)

    def swap(self, model: LinearModel) -> None:
        """Make ``model`` active from the next batch on; per-account state is kept."""
        self.model = model

    def score_arrays(self, debtor_account: np.ndarray, creditor_account: np.ndarray, amount: np.ndarray,
                     created_at_ns: np.ndarray, debtor_balance_before: np.ndarray,
                     channels: Sequence[str | None]) -> ModelScores:
        """Score one batch given as columns (the :class:`aegis.model.Batch` dtypes) plus each payment's channel."""
        model = self.model  # read once: the whole batch is scored by this model
        codes = channel_codes(channels, model.channel_codes)
        credit = self._credit(channels, model)
        rows = self.features.compute(debtor_account, creditor_account, amount, created_at_ns, debtor_balance_before,
                                     credit, model.thresholds, model.min_history)
        return self.score_features(rows, codes, model)

    @staticmethod
    def score_features(rows: np.ndarray, codes: np.ndarray, model: LinearModel) -> ModelScores:
        """Apply ``model`` to feature rows already computed (training and evaluation reuse rows)."""
        n = rows.shape[0]
        probability = np.empty(n)
        contributions = np.empty((n, len(GROUPS)))
        if n:
            plan = model.plan
            score_kernel(rows, codes, plan.active, plan.active_count, plan.base1, plan.base2, model.lo, model.hi,
                         model.coef, model.ref, model.group, plan.const_group, plan.const_total, model.logit_ref,
                         probability, contributions)
        return ModelScores(probability=probability, contributions=contributions, features=rows, channel=codes,
                           model=model)

    @staticmethod
    def _credit(channels: Sequence[str | None], model: LinearModel) -> np.ndarray:
        credit = model.credit_channels
        if not credit:
            return np.zeros(len(channels), dtype=np.bool_)
        return np.fromiter((c in credit for c in channels), dtype=np.bool_, count=len(channels))
