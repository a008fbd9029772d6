"""Hot reload of the weights file: notice a change, check the new file, swap or refuse.

A change is noticed by the file's (inode, mtime, size); a file whose bytes hash the same as the
active model's changes nothing. The new file is read once, checked completely and turned into a
new immutable model before the engine's reference is swapped, so a batch is scored by the old
or the new model, never by a half-loaded one. A refused file is reported once, not at every
check, and the old model stays active until a good file replaces it. Replace the file
atomically (write a new file, then rename it over the old one).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aegis.lifecycle import ReloadReport
from aegis_scoring_model.engine import ModelEngine
from aegis_scoring_model.weights import WeightsError, parse_weights

PLUGIN = "model"


def _signature(path: Path) -> tuple[int, int, int] | str:
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return st.st_ino, st.st_mtime_ns, st.st_size


class WeightsReloader:
    """Watches one weights file for one engine."""

    def __init__(self, engine: ModelEngine, path: Path):
        self.engine = engine
        self.path = Path(path)
        # Unknown at first: the first check hashes the file, so a change made while the engine
        # was loading it is not missed.
        self._seen: tuple[int, int, int] | str | None = None

    def check(self) -> ReloadReport | None:
        """Swap in a changed, valid file; report a changed, invalid one; ``None`` when unchanged."""
        signature = _signature(self.path)
        if signature == self._seen:
            return None
        self._seen = signature
        active = self.engine.model
        artefact = str(self.path)
        try:
            content = self.path.read_bytes()
        except OSError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.version,
                                error=f"{artefact}: cannot read weights file: {exc.strerror}")
        if hashlib.sha256(content).hexdigest() == active.sha256:
            return None
        try:
            model = parse_weights(content, self.path)
        except WeightsError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.version,
                                error=str(exc))
        self.engine.swap(model)
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=True, old_version=active.version,
                            new_version=model.version, summary=model.summary())
