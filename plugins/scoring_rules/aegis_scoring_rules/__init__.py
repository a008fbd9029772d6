"""Aegis ``rules`` scoring plugin: VELOCITY, AMOUNT and GEO factors computed by numba kernels."""

from aegis_scoring_rules.engine import RulesEngine, RulesScores
from aegis_scoring_rules.plugin import RulesPlugin

__all__ = ["RulesEngine", "RulesPlugin", "RulesScores"]
