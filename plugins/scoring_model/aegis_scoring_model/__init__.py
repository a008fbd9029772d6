"""Aegis ``model`` scoring plugin: a trained logistic model over behavioural features (numba),
explained per factor, hot-reloaded from its weights file."""

from aegis_scoring_model.engine import ModelEngine, ModelScores
from aegis_scoring_model.plugin import ModelPlugin

__all__ = ["ModelEngine", "ModelPlugin", "ModelScores"]
