"""The ``model`` scoring plugin: a trained logistic model over behavioural features, explained by factor."""

from __future__ import annotations

from pathlib import Path

from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import Batch, FactorScores, ScoreResult
from aegis_scoring_model.catalogue import GROUPS
from aegis_scoring_model.config import ModelConfig
from aegis_scoring_model.engine import ModelEngine, ModelScores
from aegis_scoring_model.explain import group_details
from aegis_scoring_model.features import batch_channels
from aegis_scoring_model.reload import WeightsReloader
from aegis_scoring_model.selftest import self_test
from aegis_scoring_model.weights import read_weights


def score_result(scores: ModelScores, config: ModelConfig) -> ScoreResult:
    """One factor per group (``<prefix><GROUP>``): its contributions, which sum to the model's score."""
    details = group_details(scores, config.details_from, config.details_features) if config.details else None
    factors = {
        f"{config.factor_prefix}{group}": FactorScores(
            scores.contributions[:, g].copy(), reason_code,
            details[group] if details is not None else None)
        for g, (group, reason_code) in enumerate(GROUPS.items())
    }
    return ScoreResult(factors=factors, versions={"model_version_hash": scores.model.version})


class ModelPlugin:
    """Scores payments with the model in its weights file; hot-reloads that file."""

    Config = ModelConfig

    def __init__(self, config: ModelConfig):
        self.config = config
        self._engine: ModelEngine | None = None
        self._reloader: WeightsReloader | None = None

    @property
    def engine(self) -> ModelEngine:
        if self._engine is None:
            raise RuntimeError("the model plugin was used before aegis_startup")
        return self._engine

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        path = self.config.weights_path()
        model = read_weights(path)
        engine = ModelEngine(model, self.config.ring_size)
        warm_up(engine)
        self._engine = engine
        self._reloader = WeightsReloader(engine, path)
        context.log.getChild("model").info("model: %s from %s; %s", model.summary(), path, model.version)

    @hookimpl
    def aegis_scoring_score(self, batch: Batch) -> ScoreResult:
        scores = self.engine.score_arrays(batch.debtor_account, batch.creditor_account, batch.amount,
                                          batch.created_at_ns, batch.debtor_balance_before, batch_channels(batch))
        return score_result(scores, self.config)

    @hookimpl
    def aegis_scoring_artefacts(self) -> dict[str, Path]:
        """The weights file in force (also the shipped default), for the kernel's snapshots."""
        return {"weights": self.config.weights_path()}

    @hookimpl
    def aegis_reload(self) -> ReloadReport | None:
        if self._reloader is None:
            return None
        return self._reloader.check()

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        return self_test(self.engine, self.config)


def warm_up(engine: ModelEngine) -> None:
    """Compile (or load from numba's cache) both kernels on a throwaway engine, so no batch pays for it."""
    import numpy as np

    throwaway = ModelEngine(engine.model, engine.features.ring_size)
    throwaway.score_arrays(np.array([0, 1]), np.array([1, 0]), np.array([10.0, 20.0]),
                           np.array([0, 1_000_000_000]), np.array([np.nan, 5.0]), [None, "TRANSFER"])
