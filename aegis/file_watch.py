"""Noticing that a plugin's file (weights, rule table, list) was replaced, for hot reload.

A change is noticed by the file's (inode, mtime, size) and confirmed by its bytes: a file whose
sha256 equals the active version's is no change. Replace watched files atomically (write a new
file, then rename it over the old one) so a half-written file is never read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _signature(path: Path) -> tuple[int, int, int] | str:
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return st.st_ino, st.st_mtime_ns, st.st_size


class FileWatch:
    """Watches one file; :meth:`changed` gives its new bytes once per change."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # Unknown at first: the first check reads the file, so a change made while the plugin
        # was loading it is not missed.
        self._seen: tuple[int, int, int] | str | None = None

    def changed(self, active_sha256: str) -> bytes | None:
        """The file's bytes when it changed since the last call and differs from ``active_sha256``.

        Raises :class:`OSError` (once per change) when the changed file cannot be read.
        """
        signature = _signature(self.path)
        if signature == self._seen:
            return None
        self._seen = signature
        content = self.path.read_bytes()
        return None if hashlib.sha256(content).hexdigest() == active_sha256 else content
