"""The ``consortium`` scoring plugin: the CONSORTIUM factor from peers' verified risk signals."""

from __future__ import annotations

import time
from pathlib import Path

from aegis.context import Context
from aegis.errors import SecurityViolation
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import Batch, ScoreResult
from aegis_scoring_consortium.book import SignalBook
from aegis_scoring_consortium.config import ConsortiumConfig
from aegis_scoring_consortium.feed import FeedReader
from aegis_scoring_consortium.intake import IntakeResult, SignalIntake
from aegis_scoring_consortium.scorer import FACTOR, ConsortiumScorer
from aegis_scoring_consortium.trust import Trust, load_trust

PLUGIN = "consortium"
VERSION_KEY = "consortium_signals_version"
MIN_PSEUDONYM_KEY = 32


class ConsortiumPlugin:
    """Flags payments to or from accounts that consortium peers proved (in zero knowledge) they blocked."""

    Config = ConsortiumConfig

    def __init__(self, config: ConsortiumConfig):
        self.config = config
        self.book = SignalBook()
        self.trust: Trust | None = None
        self._intake: SignalIntake | None = None
        self._scorer: ConsortiumScorer | None = None
        self._last_read = 0.0

    @property
    def scorer(self) -> ConsortiumScorer:
        if self._scorer is None:
            raise RuntimeError("the consortium plugin was used before aegis_startup")
        return self._scorer

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        key = self.config.pseudonym_key.get_secret_value().encode()
        if len(key) < MIN_PSEUDONYM_KEY:
            raise SecurityViolation(f"consortium: pseudonym_key has {len(key)} characters; at least "
                                    f"{MIN_PSEUDONYM_KEY} are needed (the consortium's shared key)")
        self.trust = load_trust(self.config)
        self._scorer = ConsortiumScorer(key, self.config.score, int(self.config.max_age_hours * 3600e9),
                                        int(self.config.max_skew_seconds * 1e9), self.config.details)
        self._intake = SignalIntake(FeedReader(self.config.feeds), self.book, self.trust.policy,
                                    self.config.verify_in_background)
        loaded = self._intake.load()
        self.book.cap(self.config.max_signals)
        self._last_read = time.monotonic()
        log = context.log.getChild(PLUGIN)
        for error in loaded.errors:
            log.warning("consortium: %s", error)
        log.info("consortium: verification key %s signed by %s; %s", self.trust.policy.vk_fingerprint,
                 self.trust.setup_key_id, self.book.summary())

    @hookimpl
    def aegis_scoring_score(self, batch: Batch) -> ScoreResult:
        by_entity, version = self.book.by_entity, self.book.version
        return ScoreResult(factors={FACTOR: self.scorer.score(batch, by_entity)}, versions={VERSION_KEY: version})

    @hookimpl
    def aegis_scoring_artefacts(self) -> dict[str, Path]:
        """The feeds, keys and members' public keys: what the accepted signals depend on."""
        files = {f"feeds.{i}": p for i, p in enumerate(self.config.feeds)}
        files |= {"verification_key": self.config.verification_key,
                  "verification_key_signature": self.config.signature_path, "setup_key": self.config.setup_key}
        return files | {f"members.{m}": p for m, p in self.config.members.items()}

    @hookimpl
    def aegis_reload(self, context: Context) -> ReloadReport | None:
        """Read what was appended to the feeds (at most every ``reload_interval`` seconds) and file the
        verdicts of earlier hand-overs; keep at most ``max_signals`` (the newest)."""
        if self._intake is None:
            return None
        if not self._intake.busy and time.monotonic() - self._last_read < self.config.reload_interval:
            return None
        self._last_read = time.monotonic()
        before = self.book.version
        result = self._intake.check()
        purged = self.book.cap(self.config.max_signals)
        if not result and not purged:
            return None
        return self._report(result, purged, before, context)

    def _report(self, result: IntakeResult, purged: int, before: str, context: Context) -> ReloadReport:
        artefact = ", ".join(map(str, self.config.feeds))
        rejected = "; ".join(f"{r.origin}: {r.verdict.reason}" for r in result.rejections[:5])
        summary = (f"+{len(result.accepted)} signal(s), {len(result.rejections)} rejected, {purged} dropped as "
                   f"the oldest over max_signals; "
                   f"{self.book.summary()}")
        ok = bool(result.accepted or purged) or not (result.rejections or result.errors)
        log = context.log.getChild(PLUGIN)
        (log.info if ok else log.error)("consortium: %s", summary)
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=ok, old_version=before,
                            new_version=self.book.version if ok else None, summary=summary,
                            error=None if ok else "; ".join(filter(None, [rejected, *result.errors])))

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        trust, intake = self.trust, self._intake
        results = [SelfTestResult(plugin=PLUGIN, check="verification key signed by the consortium set-up key",
                                  ok=trust is not None,
                                  detail=(f"{trust.policy.vk_fingerprint} signed by {trust.setup_key_id}; "
                                          f"{len(trust.policy.members)} member key(s)") if trust else "not started")]
        errors = intake.reader.errors() if intake is not None else ["not started"]
        results.append(SelfTestResult(plugin=PLUGIN, check="consortium feeds readable; signals verified",
                                      ok=not errors, detail="; ".join([self.book.summary(), *errors])))
        return results

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self._intake is not None:
            self._intake.close()
            self._intake = None
