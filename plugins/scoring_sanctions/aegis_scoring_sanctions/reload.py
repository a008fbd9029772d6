"""Hot reload of list files and dispositions: notice a change, read and check, swap or refuse.

A change is noticed by each file's (inode, mtime, size); lists whose bytes hash the same as the
active ones change nothing. Changed lists are read in full and a new index is built; only then is
it swapped in (one reference assignment), so a batch sees the old or the new lists. A list that
fails to read is refused, reported once, and the old version stays active. The report says what
changed between the versions: entries added, removed and changed, per list.
"""

from __future__ import annotations

from pathlib import Path

from aegis.errors import AegisError
from aegis.lifecycle import ReloadReport
from aegis_scoring_sanctions.dispositions import Dispositions
from aegis_scoring_sanctions.engine import SanctionsEngine, load_active
from aegis_scoring_sanctions.entries import SanctionsList, files_sha256
from aegis_scoring_sanctions.readers.base import ListFormatError

PLUGIN = "sanctions"

Signature = tuple[int, int, int] | str


def _signature(path: Path) -> Signature:
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return st.st_ino, st.st_mtime_ns, st.st_size


def list_diff(old: SanctionsList, new: SanctionsList) -> str:
    """``OFAC-SDN-a -> OFAC-SDN-b: +1,612 added, -14 removed, 97 changed`` (with a few ids as examples)."""
    before, after = old.by_key(), new.by_key()
    added = sorted(after.keys() - before.keys(), key=lambda k: k[1])
    removed = sorted(before.keys() - after.keys(), key=lambda k: k[1])
    changed = [k for k in after.keys() & before.keys() if after[k].fingerprint() != before[k].fingerprint()]
    text = (f"{old.version} -> {new.version}: +{len(added):,} added, -{len(removed):,} removed, "
            f"{len(changed):,} changed")
    if added:
        text += " (added e.g. " + ", ".join(f"{k[1]} {after[k].primary_name!r}" for k in added[:3]) + ")"
    if removed:
        text += " (removed e.g. " + ", ".join(f"{k[1]} {before[k].primary_name!r}" for k in removed[:3]) + ")"
    return text


class SanctionsReloader:
    """Watches the configured list files and the dispositions file of one engine."""

    def __init__(self, engine: SanctionsEngine):
        self.engine = engine
        config = engine.config
        self._sources = [c.source() for c in config.lists]
        # Unknown at first: the first check hashes the files, so a change made during startup is not missed.
        self._seen: dict[Path, Signature] = {}
        self._dispositions = config.dispositions
        self._unreadable = ""  # the last refusal that named no readable file, reported once

    def _changed(self, paths: list[Path]) -> bool:
        changed = False
        for path in paths:
            signature = _signature(path)
            if self._seen.get(path) != signature:
                self._seen[path] = signature
                changed = True
        return changed

    def check(self) -> ReloadReport | None:
        """Swap in changed, valid lists or dispositions; report refused ones; ``None`` when nothing changed."""
        active = self.engine.active
        try:
            files = [s.files() for s in self._sources]
        except ListFormatError as exc:
            if str(exc) == self._unreadable:
                return None  # already reported
            self._unreadable = str(exc)
            self._seen.clear()  # whatever comes back is read afresh
            return self._refused("lists", str(exc), [])
        self._unreadable = ""
        lists_changed = self._changed([p for group in files for p in group])
        disp_changed = self._dispositions is not None and self._changed([self._dispositions])
        if not lists_changed and not disp_changed:
            return None
        artefacts = []
        summaries = []
        new_lists: list[SanctionsList] = list(active.lists)
        if lists_changed:
            try:
                hashes = [files_sha256(group) for group in files]
            except OSError as exc:
                return self._refused("lists", f"cannot read list files: {exc}", [p for g in files for p in g])
            stale = [i for i, (lst, sha) in enumerate(zip(active.lists, hashes, strict=True)) if lst.sha256 != sha]
            for i in stale:
                source = self._sources[i]
                try:
                    fresh = source.load()
                except (AegisError, OSError) as exc:
                    return self._refused(source.label, str(exc), files[i])
                summaries.append(list_diff(active.lists[i], fresh))
                artefacts.append(source.label)
                new_lists[i] = fresh
        dispositions = active.dispositions
        if disp_changed and self._dispositions is not None:
            try:
                fresh_disp = Dispositions.load(self._dispositions)
            except AegisError as exc:
                return self._refused(str(self._dispositions), str(exc), [self._dispositions])
            if fresh_disp.version != dispositions.version:
                summaries.append(f"dispositions {dispositions.version} -> {fresh_disp.version}: "
                                 f"{len(dispositions)} -> {len(fresh_disp)} records")
                artefacts.append(str(self._dispositions))
                dispositions = fresh_disp
        if not artefacts:
            return None  # touched, same bytes
        if new_lists != list(active.lists):
            fresh_active = load_active(self.engine.config, dispositions, new_lists)
        else:
            screener = active.screener.with_dispositions(dispositions)
            fresh_active = type(active)(active.lists, active.index, screener, dispositions, active.load_seconds)
        self.engine.swap(fresh_active)
        return ReloadReport(plugin=PLUGIN, artefact=", ".join(artefacts), ok=True, old_version=active.version,
                            new_version=fresh_active.version, summary="; ".join(summaries))

    def _refused(self, artefact: str, error: str, paths: list[Path]) -> ReloadReport:
        for path in paths:  # report once: remember what was refused
            self._seen[path] = _signature(path)
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=self.engine.active.version,
                            error=error)
