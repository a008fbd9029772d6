"""Explanations: each feature's exact log-odds contribution, and the short text decision records carry.

For the logistic model ``logit = logit_ref + Σ_j coef_j · (v_j - ref_j)``: every term is a
feature's exact contribution (its Shapley value against the reference payment, which for a
linear model is the term itself), and none is negative. The probability above the reference is
split over groups in proportion to these terms (see
:func:`~aegis_scoring_model.kernels.score_kernel`).
"""

from __future__ import annotations

import numpy as np

from aegis_scoring_model.catalogue import GROUPS
from aegis_scoring_model.engine import ModelScores, model_values
from aegis_scoring_model.weights import LinearModel


def feature_contributions(model: LinearModel, features: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Log-odds contribution of every model feature for every row (``n × m``, all >= 0)."""
    return model.coef * (model_values(model, features, channel) - model.ref)


def probability_contributions(model: LinearModel, features: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Each model feature's share of ``probability - p_ref`` (``n × m``); rows sum to it exactly."""
    phi = feature_contributions(model, features, channel)
    total = phi.sum(axis=1)
    p = 1.0 / (1.0 + np.exp(-(model.logit_ref + total)))
    scale = np.divide(p - model.p_ref, total, out=np.zeros_like(total), where=total > 0)
    return phi * scale[:, None]


def _value(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def group_details(scores: ModelScores, threshold: float, top: int) -> dict[str, list[str | None]]:
    """Per group, for rows whose contribution is at least ``threshold``: the group's share, the
    model's probability, and its largest features with their values and log-odds, e.g.
    ``0.612 of p=0.973: balance_emptied*channel:TRANSFER=1 (+4.10), observed_share=1.00 (+1.22)``.
    """
    model = scores.model
    n = scores.probability.shape[0]
    out: dict[str, list[str | None]] = {}
    rows = np.flatnonzero((scores.contributions >= threshold).any(axis=1)) if n else np.zeros(0, dtype=np.int64)
    if rows.size == 0:
        return {g: [None] * n for g in GROUPS}
    values = model_values(model, scores.features[rows], scores.channel[rows])
    phi = model.coef * (values - model.ref)
    names = model.names
    for g_index, group in enumerate(GROUPS):
        texts: list[str | None] = [None] * n
        members = np.flatnonzero(model.group == g_index)
        if members.size:
            for k, i in enumerate(rows.tolist()):
                share = scores.contributions[i, g_index]
                if share < threshold:
                    continue
                order = members[np.argsort(-phi[k, members], kind="stable")][:top]
                parts = [f"{names[j]}={_value(values[k, j])} (+{phi[k, j]:.2f})" for j in order if phi[k, j] > 0]
                texts[i] = f"{share:.3f} of p={scores.probability[i]:.3f}: " + ", ".join(parts)
        out[group] = texts
    return out
