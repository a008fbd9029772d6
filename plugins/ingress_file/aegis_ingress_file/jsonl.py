"""JSON Lines: one transaction document per line, handed on as the line's raw bytes."""

from __future__ import annotations

from dataclasses import replace
from itertools import islice
from typing import BinaryIO

from aegis_ingress_file.reader import Chunk, FileReader
from aegis_ingress_file.source import SourceFile


class JsonlReader(FileReader):
    """Payloads are the raw lines (the kernel decodes and validates them); blank lines are skipped."""

    def _read_file(self, f: BinaryIO, source: SourceFile, wanted: int, chunk: Chunk) -> None:
        name = source.name
        line = self.position.line
        payloads, origins = chunk.payloads, chunk.origins
        while wanted > 0:
            lines = list(islice(f, wanted))
            if not lines:
                break
            for raw in lines:
                line += 1
                record = raw.rstrip(b"\r\n")
                if record.strip():
                    payloads.append(record)
                    origins.append(f"{name}:{line}")
                    wanted -= 1
        self.position = replace(self.position, offset=f.tell(), line=line)
