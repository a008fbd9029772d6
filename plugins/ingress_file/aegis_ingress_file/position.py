"""The durable resume position: how far acknowledged records reach, written atomically."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from aegis.model import utc_now

POSITION_FORMAT = "aegis-ingress-file-position/1"


@dataclass(frozen=True)
class Position:
    """The next unread record: byte ``offset`` and lines consumed in file ``file_index`` of the source.

    ``step`` and ``step_row`` are PaySim's clock (the step of the last row read and how many rows
    of that step were read), so a resumed replay gives every row the same ``created_at``.
    """

    file_index: int = 0
    offset: int = 0
    line: int = 0
    records: int = 0
    step: int | None = None
    step_row: int = 0


@dataclass(frozen=True)
class FileIdentity:
    """What the position's file looked like when the position was written."""

    name: str
    device: int
    inode: int
    head_len: int
    head_sha256: str


def default_state_name(path: Path) -> str:
    """``file-<sha256 of the absolute path, 16 hex>-<file name>.position.json``."""
    absolute = str(path.expanduser().absolute())
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:16]
    return f"file-{digest}-{path.name or 'root'}.position.json"


class PositionStore:
    """Reads and atomically replaces one position file in the state directory."""

    def __init__(self, path: Path, source: Path, format_name: str):
        self.path = path
        self.source = source
        self.format_name = format_name
        self._last: Position | None = None

    def load(self) -> tuple[Position, FileIdentity] | None:
        """The saved position and file identity, or ``None`` when nothing was acknowledged yet."""
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ValueError(f"resume position {self.path} is unreadable ({exc}); delete it to start over "
                             f"or set resume: false") from exc
        if data.get("position_format") != POSITION_FORMAT:
            raise ValueError(f"resume position {self.path} has format {data.get('position_format')!r}, "
                             f"expected {POSITION_FORMAT!r}")
        if data.get("format") != self.format_name:
            raise ValueError(f"resume position {self.path} was written reading {data.get('format')} but the "
                             f"source is read as {self.format_name}; delete it to start over or set resume: false")
        try:
            position = Position(**{k: data[k] for k in Position.__dataclass_fields__})
            identity = FileIdentity(**data["file"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"resume position {self.path} is incomplete ({exc}); delete it to start over "
                             f"or set resume: false") from exc
        self._last = position
        return position, identity

    def save(self, position: Position, identity: FileIdentity) -> None:
        """Replace the position file: write a temporary file, fsync it, rename it over the old one.

        The directory is not fsynced: if the rename is lost in a machine crash the previous
        position stays, and the records after it are delivered again (audit sinks are
        idempotent on UETR), so nothing is lost.
        """
        if position == self._last:
            return
        document = {"position_format": POSITION_FORMAT, "source": str(self.source), "format": self.format_name,
                    **asdict(position), "file": asdict(identity),
                    "acknowledged_at": utc_now().isoformat(timespec="milliseconds")}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        self._last = position
