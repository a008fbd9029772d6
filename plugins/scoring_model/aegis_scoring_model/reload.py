"""Hot reload of the weights file: notice a change, check the new file, swap or refuse.

A change is noticed by the file's (inode, mtime, size); a file whose bytes hash the same as the
active model's changes nothing. The new file is read once, checked completely and turned into a
new immutable model before the engine's reference is swapped, so a batch is scored by the old
or the new model, never by a half-loaded one. A refused file is reported once, not at every
check, and the old model stays active until a good file replaces it. Replace the file
atomically (write a new file, then rename it over the old one).
"""

from __future__ import annotations

from pathlib import Path

from aegis.file_watch import FileWatch
from aegis.lifecycle import ReloadReport
from aegis_scoring_model.engine import ModelEngine
from aegis_scoring_model.weights import WeightsError, parse_weights

PLUGIN = "model"


class WeightsReloader:
    """Watches one weights file for one engine."""

    def __init__(self, engine: ModelEngine, path: Path):
        self.engine = engine
        self.path = Path(path)
        self.watch = FileWatch(self.path)

    def check(self) -> ReloadReport | None:
        """Swap in a changed, valid file; report a changed, invalid one; ``None`` when unchanged."""
        active = self.engine.model
        artefact = str(self.path)
        try:
            content = self.watch.changed(active.sha256)
        except OSError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.version,
                                error=f"{artefact}: cannot read weights file: {exc.strerror}")
        if content is None:
            return None
        try:
            model = parse_weights(content, self.path)
        except WeightsError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=False, old_version=active.version,
                                error=str(exc))
        self.engine.swap(model)
        return ReloadReport(plugin=PLUGIN, artefact=artefact, ok=True, old_version=active.version,
                            new_version=model.version, summary=model.summary())
