"""Hot reload of the FATF list file: notice a change, check the new file, swap or refuse.

A change is noticed by the file's (inode, mtime, size); a file whose bytes hash the same as the active
one changes nothing. A refused file is reported once, not at every check, and the old rule set
stays active until a file that passes the checks replaces it. Replace the file atomically
(write a new file, then rename it over the old one) so a half-written file is never read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aegis.lifecycle import ReloadReport
from aegis_scoring_rules.engine import RulesEngine
from aegis_scoring_rules.fatf import FatfListError
from aegis_scoring_rules.ruleset import RuleSet

PLUGIN = "rules"


def _signature(path: Path) -> tuple[int, int, int] | str:
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return st.st_ino, st.st_mtime_ns, st.st_size


class FatfReloader:
    """Watches ``config.geo.fatf_list`` for one engine."""

    def __init__(self, engine: RulesEngine):
        self.engine = engine
        self.path = Path(engine.config.geo.fatf_list)
        # Unknown at first: the first check hashes the file, so a change made while the engine
        # was loading it is not missed.
        self._seen: tuple[int, int, int] | str | None = None

    def check(self) -> ReloadReport | None:
        """Swap in a changed, valid file; report a changed, invalid one; ``None`` when unchanged."""
        signature = _signature(self.path)
        if signature == self._seen:
            return None
        self._seen = signature
        active = self.engine.rules
        artefact = str(self.path)
        try:
            content = self.path.read_bytes()
        except OSError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.rules_version,
                                error=f"{artefact}: cannot read FATF list: {exc.strerror}")
        if hashlib.sha256(content).hexdigest() == active.fatf.sha256:
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
