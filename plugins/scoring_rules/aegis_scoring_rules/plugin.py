"""The ``rules`` scoring plugin: VELOCITY, AMOUNT and GEO factors for every transaction of a batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aegis._manager import PluginHost
from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import Batch, FactorScores, ScoreResult
from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.engine import RulesEngine
from aegis_scoring_rules.explain import amount_details, geo_details, velocity_details
from aegis_scoring_rules.reload import RulesReloader
from aegis_scoring_rules.selftest import self_test
from aegis_scoring_rules.shards import ShardLedger

RC_VELOCITY_EXCEEDED = "RC_VELOCITY_EXCEEDED"
RC_AMOUNT_ANOMALY = "RC_AMOUNT_ANOMALY"
RC_HIGH_RISK_GEO = "RC_HIGH_RISK_GEO"


class RulesPlugin:
    """Velocity windows and amount history per debtor account, and FATF-listed countries."""

    Config = RulesConfig

    def __init__(self, config: RulesConfig):
        self.config = config
        self._engine: RulesEngine | None = None
        self._reloader: RulesReloader | None = None
        self.ledger = ShardLedger()

    @property
    def engine(self) -> RulesEngine:
        if self._engine is None:
            raise RuntimeError("the rules plugin was used before aegis_startup")
        return self._engine

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        engine = RulesEngine(self.config)
        engine.warm()
        self._engine = engine
        self._reloader = RulesReloader(engine)
        fatf = engine.rules.fatf
        context.log.getChild("rules").info("rules: %s from %s; thresholds from %s; %s", fatf.summary(), fatf.path,
                                           self.config.thresholds or "the deployment YAML",
                                           engine.rules.rules_version)

    @hookimpl
    def aegis_scoring_score(self, batch: Batch) -> ScoreResult:
        scores = self.engine.score_arrays(batch.debtor_account, batch.amount, batch.created_at_ns,
                                          batch.debtor_country, batch.creditor_country)
        if batch.shard is not None:
            self.ledger.note(batch.debtor_account, batch.shard)
        explain = self.config.details
        factors = {
            "VELOCITY": FactorScores(scores.velocity, RC_VELOCITY_EXCEEDED,
                                     velocity_details(scores) if explain else None),
            "AMOUNT": FactorScores(scores.amount, RC_AMOUNT_ANOMALY,
                                   amount_details(scores, batch.amount) if explain else None),
            "GEO": FactorScores(scores.geo, RC_HIGH_RISK_GEO,
                                geo_details(scores, batch.debtor_country, batch.creditor_country)
                                if explain else None),
        }
        return ScoreResult(factors=factors, versions=scores.rules.versions)

    @hookimpl
    def aegis_scoring_state_save(self, context: Context, shards: Sequence[int]) -> bytes:
        """Velocity rings and amount statistics of the debtor accounts of ``shards``."""
        return self.ledger.save(self.engine.state, shards, _host(context).accounts.names)

    @hookimpl
    def aegis_scoring_state_restore(self, context: Context, shards: Sequence[int],
                                    blobs: Mapping[int, bytes]) -> None:
        restored = self.ledger.restore(self.engine.state, shards, blobs, _host(context).accounts.intern)
        context.log.getChild("rules").info("rules: state of shard(s) %s restored (%d accounts, %d checkpoint(s))",
                                           ", ".join(map(str, shards)), restored, len(blobs))

    @hookimpl
    def aegis_reload(self) -> ReloadReport | None:
        if self._reloader is None:
            return None
        return self._reloader.check()

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        return self_test(self.engine)


def _host(context: Context) -> PluginHost:
    if context.host is None:
        raise RuntimeError("rules: shard state needs the kernel's account index (context.host is not set)")
    return context.host
