"""Generic CSV: a header row of flat column names, each row becoming a nested transaction mapping.

Columns are the :class:`~aegis.model.Transaction` fields with the parties flattened
(``debtor_name``, ``creditor_account``, ...), in any order, any subset. An empty cell means
the field is absent. Rows may span lines inside quotes; a row whose cell count differs from
the header's is rejected with its origin, never dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from aegis.model import Party, Reject, Transaction
from aegis_ingress_file.position import Position
from aegis_ingress_file.reader import Chunk, FileReader
from aegis_ingress_file.source import SourceFile, SourceFiles

PARTIES = ("debtor", "creditor")
#: Flat column → (party or ``None`` for a top-level field, field name).
COLUMNS: dict[str, tuple[str | None, str]] = {
    **{name: (None, name) for name in Transaction.model_fields if name not in PARTIES},
    **{f"{party}_{name}": (party, name) for party in PARTIES for name in Party.model_fields},
}


def parse_header(line: bytes, path: Path) -> list[str]:
    """The header's column names; unknown or repeated columns are an error naming them."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the CSV header is not UTF-8 ({exc})") from exc
    names = [c.strip() for c in next(csv.reader([text]), [])]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise ValueError(f"{path}: unknown CSV column(s) {unknown} in the header; known columns: "
                         f"{', '.join(COLUMNS)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{path}: CSV column(s) {repeated} appear more than once in the header")
    return names


class FlatCsvReader(FileReader):
    """Rows of a flat CSV as transaction mappings (strings as in the file)."""

    def __init__(self, files: SourceFiles, position: Position):
        super().__init__(files, position)
        source = files.files[0]
        with open(source.path, "rb") as f:
            header = f.readline()
        self.columns = parse_header(header, source.path)
        plan: dict[str | None, list[tuple[int, str]]] = {None: [], **{party: [] for party in PARTIES}}
        for i, column in enumerate(self.columns):
            party, key = COLUMNS[column]
            plan[party].append((i, key))
        self._plan = (plan[None], plan["debtor"], plan["creditor"])
        if self.position.offset == 0:
            self.position = replace(self.position, offset=len(header), line=1)
        self._rows: Iterator[list[str]] | None = None
        self._record_lines: list[bytes] = []
        self._undecodable = False
        self._offset = self._line = 0

    def _open(self, source: SourceFile) -> BinaryIO:
        f = super()._open(source)
        self._offset, self._line = self.position.offset, self.position.line
        self._rows = csv.reader(self._lines(f))
        return f

    def _lines(self, f: BinaryIO) -> Iterator[str]:
        """The file's lines as text, counting what the csv reader consumed (it never reads ahead)."""
        for raw in f:
            self._record_lines.append(raw)
            self._line += 1
            self._offset += len(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._undecodable = True
                yield raw.decode("utf-8", "replace")

    def _read_file(self, f: BinaryIO, source: SourceFile, wanted: int, chunk: Chunk) -> None:
        assert self._rows is not None
        name, width = source.name, len(self.columns)
        top, debtor_plan, creditor_plan = self._plan
        payloads, origins, rejects = chunk.payloads, chunk.origins, chunk.rejects
        while wanted > 0:
            first_line = self._line + 1
            try:
                row = next(self._rows)
                error = None
            except StopIteration:
                break
            except csv.Error as exc:
                row, error = [], f"malformed CSV: {exc}"
            raw = b"".join(self._record_lines).rstrip(b"\r\n")
            self._record_lines.clear()
            origin = f"{name}:{first_line}"
            if self._undecodable:
                self._undecodable = False
                error = "the row is not UTF-8 text"
            elif error is None and not row:
                continue  # blank line
            elif error is None and len(row) != width:
                error = f"the row has {len(row)} cells but the header has {width}"
            wanted -= 1
            if error is not None:
                rejects.append(Reject(origin=origin, reason=error, payload=raw))
                continue
            payload: dict[str, Any] = {key: row[i] for i, key in top if row[i]}
            debtor = {key: row[i] for i, key in debtor_plan if row[i]}
            if debtor:
                payload["debtor"] = debtor
            creditor = {key: row[i] for i, key in creditor_plan if row[i]}
            if creditor:
                payload["creditor"] = creditor
            payloads.append(payload)
            origins.append(origin)
        self.position = replace(self.position, offset=self._offset, line=self._line)

    def close(self) -> None:
        super().close()
        self._rows = None
        self._record_lines.clear()
