"""Hot reload of the FATF list and the thresholds file: notice a change, check it, swap or refuse.

A change is noticed by :class:`aegis.file_watch.FileWatch`; a file whose bytes hash the same as the
active one changes nothing. Both files go into one new :class:`RuleSet`, swapped between batches,
so a batch never sees new thresholds with an old list or half of a change. A refused file is
reported once, not at every check, and the old rule set stays active until a file that passes
the checks replaces it. Replace files atomically (write a new file, rename it over the old one).
"""

from __future__ import annotations

from pathlib import Path

from aegis.file_watch import FileWatch
from aegis.lifecycle import ReloadReport
from aegis_scoring_rules.engine import RulesEngine
from aegis_scoring_rules.fatf import FatfListError
from aegis_scoring_rules.ruleset import RuleSet
from aegis_scoring_rules.thresholds import ThresholdsError, describe_change

PLUGIN = "rules"


class RulesReloader:
    """Watches ``config.geo.fatf_list`` and ``config.thresholds`` (when set) for one engine."""

    def __init__(self, engine: RulesEngine):
        self.engine = engine
        self.fatf_path = Path(engine.config.geo.fatf_list)
        self.fatf_watch = FileWatch(self.fatf_path)
        self.thresholds_path = Path(engine.config.thresholds) if engine.config.thresholds else None
        self.thresholds_watch = FileWatch(self.thresholds_path) if self.thresholds_path else None

    def check(self) -> ReloadReport | None:
        """Swap in changed, valid files; report changed, invalid ones; ``None`` when nothing changed."""
        active = self.engine.rules
        changed: list[str] = []
        contents: dict[str, bytes | None] = {}
        for what, path, watch, sha in (("FATF list", self.fatf_path, self.fatf_watch, active.fatf.sha256),
                                       ("thresholds file", self.thresholds_path, self.thresholds_watch,
                                        active.thresholds_sha256 or "")):
            if watch is None:
                contents[what] = None
                continue
            try:
                contents[what] = watch.changed(sha)
            except OSError as exc:
                return ReloadReport(plugin=PLUGIN, artefact=str(path), ok=False, old_version=active.rules_version,
                                    error=f"{path}: cannot read {what}: {exc.strerror}")
            if contents[what] is not None:
                changed.append(str(path))
        fatf, thresholds = contents["FATF list"], contents["thresholds file"]
        if not changed:
            return None
        artefact = ", ".join(changed)
        try:
            rules = RuleSet.load(self.engine.config, content=fatf if fatf is not None else active.fatf.content,
                                 path=self.fatf_path,
                                 thresholds=thresholds if thresholds is not None else active.thresholds,
                                 ring_size=self.engine.state.ring_size)
        except (FatfListError, ThresholdsError) as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.rules_version,
                                error=str(exc))
        self.engine.swap(rules)
        summary = []
        if fatf is not None:
            summary.append(f"{active.fatf_list_version} -> {rules.fatf.summary()}")
        if thresholds is not None:
            summary.append(describe_change(active.config, rules.config))
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=True, old_version=active.rules_version,
                            new_version=rules.rules_version, summary="; ".join(summary))
