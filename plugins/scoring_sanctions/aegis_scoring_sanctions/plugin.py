"""The ``sanctions`` scoring plugin: the SANCTIONS factor for every transaction of a batch."""

from __future__ import annotations

from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import Batch, ScoreResult
from aegis_scoring_sanctions.config import SanctionsConfig
from aegis_scoring_sanctions.engine import SanctionsEngine, load_active
from aegis_scoring_sanctions.reload import SanctionsReloader
from aegis_scoring_sanctions.selftest import self_test


class SanctionsPlugin:
    """Screens debtor and creditor names against OFAC and UN lists (and any list a reader is installed for)."""

    Config = SanctionsConfig

    def __init__(self, config: SanctionsConfig):
        self.config = config
        self._engine: SanctionsEngine | None = None
        self._reloader: SanctionsReloader | None = None

    @property
    def engine(self) -> SanctionsEngine:
        if self._engine is None:
            raise RuntimeError("the sanctions plugin was used before aegis_startup")
        return self._engine

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        active = load_active(self.config)
        self._engine = SanctionsEngine(self.config, active)
        self._reloader = SanctionsReloader(self._engine)
        context.log.getChild("sanctions").info("sanctions: %s", active.summary())

    @hookimpl
    def aegis_scoring_score(self, batch: Batch) -> ScoreResult:
        return self.engine.score(batch)

    @hookimpl
    def aegis_reload(self, context: Context) -> ReloadReport | None:
        if self._reloader is None:
            return None
        report = self._reloader.check()
        if report is not None:
            log = context.log.getChild("sanctions")
            if report.ok:
                log.warning("sanctions lists reloaded: %s", report.summary)
            else:
                log.error("sanctions reload refused: %s (still active: %s)", report.error, report.old_version)
        return report

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        return self_test(self.engine)
