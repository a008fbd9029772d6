"""Reading and checking a FATF list file, and turning one dated list into a numba lookup table.

The file holds several dated lists (FATF publishes new ones three times a year); one of them is
selected by ``as_of``. Every row is checked, not only the selected list's: a file with one bad row
is refused whole, so a reload never half-applies.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from aegis.model import ISO_COUNTRIES, country_code

COLUMNS = ("as_of", "iso2", "jurisdiction", "fatf_status", "confidence", "sources")
#: Size of the lookup table indexed by :func:`aegis.model.country_code`.
TABLE_SIZE = 26 * 26
CORROBORATED = "corroborated"


class FatfListError(ValueError):
    """The FATF list file cannot be used; the message names the file, line and problem."""


@dataclass(frozen=True)
class FatfEntry:
    """One jurisdiction on the selected list."""

    iso2: str
    jurisdiction: str
    status: str
    confidence: str


@dataclass(frozen=True)
class FatfList:
    """The list selected from a FATF list file, with the file's fingerprint."""

    path: Path
    as_of: date
    entries: dict[str, FatfEntry]
    list_dates: tuple[date, ...]
    sha256: str
    content: bytes

    @property
    def version(self) -> str:
        """``FATF-<as_of>``, the list version decision records carry."""
        return f"FATF-{self.as_of.isoformat()}"

    def table(self, status_scores: dict[str, float]) -> np.ndarray:
        """GEO score per packed country code (float64, ``TABLE_SIZE`` long)."""
        table = np.zeros(TABLE_SIZE, dtype=np.float64)
        for entry in self.entries.values():
            table[country_code(entry.iso2)] = status_scores[entry.status]
        return table

    def summary(self) -> str:
        """``FATF-<date>: n jurisdictions (counts by status)``, noting rows that are not corroborated."""
        by_status: dict[str, int] = {}
        for entry in self.entries.values():
            by_status[entry.status] = by_status.get(entry.status, 0) + 1
        counts = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
        text = f"{self.version}: {len(self.entries)} jurisdictions ({counts})"
        unverified = [e for e in self.entries.values() if e.confidence != CORROBORATED]
        if unverified:
            kinds = ", ".join(sorted({e.confidence or "(blank)" for e in unverified}))
            which = "all" if len(unverified) == len(self.entries) else ", ".join(sorted(e.iso2 for e in unverified))
            text += f"; not corroborated ({kinds}): {which}"
        return text


def parse_fatf_list(content: bytes, path: Path, known_statuses: set[str] | dict[str, float],
                    as_of: date | None = None) -> FatfList:
    """Check every row of ``content`` and select the latest list dated on or before ``as_of``."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FatfListError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if missing := [c for c in COLUMNS if c not in header]:
        raise FatfListError(f"{path}: missing column(s) {', '.join(missing)}; the header must hold "
                            f"{','.join(COLUMNS)}, found {','.join(header) or 'nothing'}")
    lists: dict[date, dict[str, FatfEntry]] = {}
    for row in reader:
        where = f"{path} line {reader.line_num}"
        if None in row or any(row[c] is None for c in COLUMNS):
            raise FatfListError(f"{where}: expected {len(header)} fields")
        try:
            listed = date.fromisoformat(row["as_of"].strip())
        except ValueError:
            raise FatfListError(f"{where}: as_of {row['as_of']!r} is not a date (YYYY-MM-DD)") from None
        iso2 = row["iso2"].strip()
        if iso2 not in ISO_COUNTRIES:
            raise FatfListError(f"{where}: iso2 {iso2!r} is not an ISO 3166-1 alpha-2 country code")
        status = row["fatf_status"].strip()
        if status not in known_statuses:
            raise FatfListError(f"{where}: unknown fatf_status {status!r} (known: {', '.join(sorted(known_statuses))}"
                                f"; add it to geo.status_scores to accept it)")
        entries = lists.setdefault(listed, {})
        if iso2 in entries and entries[iso2].status != status:
            raise FatfListError(f"{where}: {iso2} is listed twice on {listed} with different statuses "
                                f"({entries[iso2].status}, {status})")
        entries[iso2] = FatfEntry(iso2, row["jurisdiction"].strip(), status, row["confidence"].strip())
    if not lists:
        raise FatfListError(f"{path}: no rows")
    dates = tuple(sorted(lists))
    usable = [d for d in dates if as_of is None or d <= as_of]
    if not usable:
        raise FatfListError(f"{path}: no list dated on or before as_of {as_of} (lists: "
                            f"{', '.join(d.isoformat() for d in dates)})")
    chosen = usable[-1]
    return FatfList(path=path, as_of=chosen, entries=lists[chosen], list_dates=dates,
                    sha256=hashlib.sha256(content).hexdigest(), content=content)


def read_fatf_list(path: Path, known_statuses: set[str] | dict[str, float], as_of: date | None = None) -> FatfList:
    """Read and check the FATF list file at ``path`` (see :func:`parse_fatf_list`)."""
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise FatfListError(f"{path}: cannot read FATF list: {exc.strerror}") from None
    return parse_fatf_list(content, Path(path), known_statuses, as_of)
