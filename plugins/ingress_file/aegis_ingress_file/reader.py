"""Walking a source's files chunk by chunk; each format supplies how one file's records are read."""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from aegis.model import Reject
from aegis_ingress_file.position import Position
from aegis_ingress_file.source import SourceFile, SourceFiles

#: A poll must return within about 100 ms: past the first round, no new round starts after this.
TIME_BUDGET = 0.05
ROUND = 8192


@dataclass
class Chunk:
    """Records read by one poll and the position right after the last of them."""

    payloads: list[Any] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    labels: dict[str, list[Any]] = field(default_factory=dict)
    end: Position = field(default_factory=Position)
    exhausted: bool = False

    def __len__(self) -> int:
        return len(self.payloads) + len(self.rejects)


class FileReader(ABC):
    """Reads records from ``position`` on, crossing from one file of the source to the next."""

    def __init__(self, files: SourceFiles, position: Position):
        self.files = files
        self.position = position
        self._handle: BinaryIO | None = None
        self._exhausted = False

    @abstractmethod
    def _read_file(self, f: BinaryIO, source: SourceFile, wanted: int, chunk: Chunk) -> None:
        """Append up to ``wanted`` records of ``f`` to ``chunk``, advancing ``self.position``'s
        offset and line (and PaySim's clock) past them."""

    def _open(self, source: SourceFile) -> BinaryIO:
        """Open ``source`` at ``self.position``'s offset (a format with per-file reading state extends this)."""
        f = open(source.path, "rb")  # kept open across polls, closed in close()
        f.seek(self.position.offset)
        return f

    def read(self, max_records: int) -> Chunk:
        """Up to ``max_records`` records (payloads and rejects together). A large request is read
        in rounds of :data:`ROUND` records and cut short once :data:`TIME_BUDGET` is spent."""
        chunk = Chunk()
        deadline = time.monotonic() + TIME_BUDGET
        while not self._exhausted and len(chunk) < max_records:
            if len(chunk) >= ROUND and time.monotonic() > deadline:
                break
            source = self.files.files[self.position.file_index]
            if self._handle is None:
                self._handle = self._open(source)
            before = len(chunk)
            self._read_file(self._handle, source, min(max_records - before, ROUND), chunk)
            self.position = replace(self.position, records=self.position.records + len(chunk) - before)
            if self.position.offset < os.fstat(self._handle.fileno()).st_size:
                continue
            self.close()
            if self.position.file_index + 1 < len(self.files.files):
                self.position = replace(self.position, file_index=self.position.file_index + 1, offset=0, line=0)
            else:
                self._exhausted = True
        chunk.end = self.position
        chunk.exhausted = self._exhausted
        return chunk

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
