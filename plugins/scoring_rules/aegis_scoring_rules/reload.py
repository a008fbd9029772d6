"""Hot reload of the FATF list file: notice a change, check the new file, swap or refuse.

A change is noticed by the file's (inode, mtime, size); a file whose bytes hash the same as the active
one changes nothing. A refused file is reported once, not at every check, and the old rule set
stays active until a file that passes the checks replaces it. Replace the file atomically
(write a new file, then rename it over the old one) so a half-written file is never read.
"""

from __future__ import annotations

from pathlib import Path

from aegis.file_watch import FileWatch
from aegis.lifecycle import ReloadReport
from aegis_scoring_rules.engine import RulesEngine
from aegis_scoring_rules.fatf import FatfListError
from aegis_scoring_rules.ruleset import RuleSet

PLUGIN = "rules"


class FatfReloader:
    """Watches ``config.geo.fatf_list`` for one engine."""

    def __init__(self, engine: RulesEngine):
        self.engine = engine
        self.path = Path(engine.config.geo.fatf_list)
        self.watch = FileWatch(self.path)

    def check(self) -> ReloadReport | None:
        """Swap in a changed, valid file; report a changed, invalid one; ``None`` when unchanged."""
        active = self.engine.rules
        artefact = str(self.path)
        try:
            content = self.watch.changed(active.fatf.sha256)
        except OSError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.rules_version,
                                error=f"{artefact}: cannot read FATF list: {exc.strerror}")
        if content is None:
            return None
        try:
            rules = RuleSet.load(self.engine.config, content=content, path=self.path)
        except FatfListError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.rules_version,
                                error=str(exc))
        self.engine.swap(rules)
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=True, old_version=active.rules_version,
                            new_version=rules.rules_version,
                            summary=f"{active.fatf_list_version} -> {rules.fatf.summary()}")
