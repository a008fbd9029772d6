"""Reading peers' JSONL feeds incrementally: only complete lines not read before.

A feed is append-only: each check hands out the complete lines appended since the last one (a
line without its newline yet waits for the next check). A file that was rewritten rather than
appended to (its start changed, or it shrank) is read again from the top; signals already
accepted are recognised by their id. Changes are noticed with :class:`aegis.file_watch.FileWatch`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from aegis.file_watch import FileWatch


@dataclass
class _Cursor:
    watch: FileWatch
    sha256: str = ""  # of the whole file as last read
    offset: int = 0  # bytes handed out (complete lines)
    prefix_sha256: str = hashlib.sha256(b"").hexdigest()  # of those bytes
    line: int = 0  # lines handed out
    error: str | None = None  # why the file could not be read at its last change


@dataclass(frozen=True)
class FeedLine:
    origin: str  # "path:line"
    data: bytes


@dataclass
class FeedPoll:
    lines: list[FeedLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class FeedReader:
    """The configured feed files, and the ``*.jsonl`` files of the configured directories."""

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self._cursors: dict[Path, _Cursor] = {}

    def files(self) -> list[Path]:
        out: list[Path] = []
        for p in self.paths:
            out += sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
        return out

    def poll(self) -> FeedPoll:
        """New complete lines of every feed; feeds that became unreadable are named in ``errors``."""
        result = FeedPoll()
        for path in self.files():
            cursor = self._cursors.setdefault(path, _Cursor(FileWatch(path)))
            try:
                content = cursor.watch.changed(cursor.sha256)
            except OSError as exc:
                cursor.error = f"{path}: cannot read feed: {exc.strerror}"
                result.errors.append(cursor.error)
                continue
            if content is not None:
                cursor.error = None
                result.lines += self._new_lines(path, cursor, content)
        return result

    def errors(self) -> list[str]:
        """Feeds unreadable as of their last change (a missing feed stays listed until it appears)."""
        return [c.error for c in self._cursors.values() if c.error is not None]

    @staticmethod
    def _new_lines(path: Path, cursor: _Cursor, content: bytes) -> list[FeedLine]:
        cursor.sha256 = hashlib.sha256(content).hexdigest()
        appended = (len(content) >= cursor.offset
                    and hashlib.sha256(content[:cursor.offset]).hexdigest() == cursor.prefix_sha256)
        if not appended:
            cursor.offset, cursor.line = 0, 0
        end = content.rfind(b"\n") + 1
        if end <= cursor.offset:
            return []
        out = []
        for raw in content[cursor.offset:end].split(b"\n")[:-1]:
            cursor.line += 1
            if raw.strip():
                out.append(FeedLine(f"{path}:{cursor.line}", raw))
        cursor.offset = end
        cursor.prefix_sha256 = hashlib.sha256(content[:end]).hexdigest()
        return out
