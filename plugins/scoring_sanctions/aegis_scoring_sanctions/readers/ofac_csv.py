"""OFAC legacy CSV: the SDN list (``sdn.csv`` ...) and the consolidated non-SDN list (``cons_*.csv``).

A list is a folder of header-less CSV files: primary records (``ent_num, SDN_Name, SDN_Type, Program,
Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks``), aliases (``ent_num,
alt_num, alt_type, alt_name, alt_remarks``), addresses (``ent_num, add_num, address,
city/state/postal, country, add_remarks``) and optional remark continuations (``ent_num, text``).
``-0-`` means empty; the files end with a DOS end-of-file byte. Dates of birth, nationality and
citizenship are taken from the remarks; weak aliases (``a.k.a. 'X'`` in the remarks) become weak names.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from aegis_scoring_sanctions.countries import country_code
from aegis_scoring_sanctions.entries import (
    AIRCRAFT,
    ENTITY,
    INDIVIDUAL,
    PRIMARY,
    VESSEL,
    BirthDate,
    ListedName,
    ListEntry,
    SanctionsList,
    files_sha256,
)
from aegis_scoring_sanctions.readers.base import ListFormatError

_EMPTY = "-0-"
_KINDS = {"individual": INDIVIDUAL, "vessel": VESSEL, "aircraft": AIRCRAFT, "": ENTITY}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
_DOB = re.compile(r"\bDOB\s+([^;]+)", re.IGNORECASE)
_DATE = re.compile(r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\s+)?(\d{4})")
_NATIONALITY = re.compile(r"\b(?:nationality|citizen)\s+([^;.]+)", re.IGNORECASE)
_WEAK_AKA = re.compile(r"a\.k\.a\.\s+'([^']+)'", re.IGNORECASE)


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == _EMPTY else value


def parse_dob(text: str) -> BirthDate | None:
    """``01 Jan 1960``, ``Jan 1960``, ``1962``, ``circa 1958``, ``1959 to 1961`` → :class:`BirthDate`."""
    approximate = "circa" in text.lower()
    found = _DATE.findall(text)
    if not found:
        return None
    day, month, year = found[0]
    last_year = int(found[-1][2])
    month_no = _MONTHS.get(month[:3].lower(), 0) if month else 0
    if len(found) > 1 and last_year != int(year):
        return BirthDate(int(year), last_year, approximate=approximate)
    return BirthDate(int(year), int(year), month_no, int(day) if (day and month_no) else 0, approximate)


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # the legacy files are officially ISO-8859-1
    rows = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text.replace("\x1a", ""))), start=1):
        if not row or not "".join(row).strip():
            continue
        if not row[0].strip().isdigit():
            raise ListFormatError(f"{path}:{lineno}: expected an entry number in the first column, "
                                  f"got {row[0][:40]!r}")
        rows.append(row)
    return rows


class _OfacCsvReader:
    """Shared parser of the two OFAC legacy CSV lists; subclasses name the files and the list."""

    format: ClassVar[str]
    list_name: ClassVar[str]
    primary_file: ClassVar[str]
    alias_file: ClassVar[str]
    address_file: ClassVar[str]
    comments_file: ClassVar[str]

    def files(self, path: Path) -> list[Path]:
        path = Path(path)
        if not path.is_dir():
            raise ListFormatError(f"{path}: an {self.format} list is a folder holding {self.primary_file}, "
                                  f"{self.alias_file} and {self.address_file}")
        required = [path / self.primary_file, path / self.alias_file, path / self.address_file]
        missing = [p.name for p in required if not p.is_file()]
        if missing:
            raise ListFormatError(f"{path}: missing {', '.join(missing)} for an {self.format} list")
        comments = path / self.comments_file
        return required + ([comments] if comments.is_file() else [])

    def read(self, path: Path, source: str, version: str | None = None) -> SanctionsList:
        files = self.files(path)
        primary, aliases, addresses = files[:3]
        remarks: dict[str, list[str]] = defaultdict(list)
        if len(files) > 3:
            for row in _rows(files[3]):
                remarks[row[0].strip()].append(",".join(row[1:]))
        alias_names: dict[str, list[ListedName]] = defaultdict(list)
        for row in _rows(aliases):
            if len(row) < 4:
                raise ListFormatError(f"{aliases}: entry {row[0]}: expected 5 columns, got {len(row)}")
            name = _field(row[3])
            if name:
                alias_names[row[0].strip()].append(ListedName(name, _field(row[2]).lower() or "aka"))
        countries: dict[str, set[str]] = defaultdict(set)
        for row in _rows(addresses):
            if len(row) >= 5 and (code := country_code(_field(row[4]))):
                countries[row[0].strip()].add(code)
        entries = []
        seen: set[str] = set()
        for row in _rows(primary):
            if len(row) < 12:
                raise ListFormatError(f"{primary}: entry {row[0]}: expected 12 columns, got {len(row)}")
            ent = row[0].strip()
            if ent in seen:
                raise ListFormatError(f"{primary}: entry number {ent} appears twice")
            seen.add(ent)
            name = _field(row[1])
            if not name:
                raise ListFormatError(f"{primary}: entry {ent} has no name")
            kind_text = _field(row[2]).lower()
            if kind_text not in _KINDS:
                raise ListFormatError(f"{primary}: entry {ent}: unknown type {row[2].strip()!r}")
            remark = " ".join([_field(row[11]), *remarks.get(ent, ())])
            names = [ListedName(name, PRIMARY), *alias_names.get(ent, ())]
            names += [ListedName(w.strip(), "aka", weak=True) for w in _WEAK_AKA.findall(remark) if w.strip()]
            dobs = tuple(d for m in _DOB.findall(remark) if (d := parse_dob(m)) is not None)
            nationals = {c for m in _NATIONALITY.findall(remark) if (c := country_code(m))}
            entries.append(ListEntry(
                list_name=self.list_name, entry_id=ent, kind=_KINDS[kind_text], names=tuple(names),
                birth_dates=dobs, countries=frozenset(countries.get(ent, set()) | nationals),
                programs=tuple(p.strip() for p in _field(row[3]).split(";") if p.strip()),
            ))
        if not entries:
            raise ListFormatError(f"{primary}: no entries")
        sha = files_sha256(files)
        if version is None:
            stamp = datetime.fromtimestamp(primary.stat().st_mtime, UTC).strftime("%Y-%m-%d")
            version = f"{self.list_name}-{stamp}+{sha[:8]}"
        return SanctionsList(source=source, list_name=self.list_name, version=version, entries=tuple(entries),
                             files=tuple(files), sha256=sha)


class OfacSdnReader(_OfacCsvReader):
    """OFAC Specially Designated Nationals list, legacy CSV folder (``sdn.csv``, ``alt.csv``, ``add.csv``)."""

    format = "ofac-csv"
    list_name = "OFAC-SDN"
    primary_file = "sdn.csv"
    alias_file = "alt.csv"
    address_file = "add.csv"
    comments_file = "sdn_comments.csv"


class OfacConsolidatedReader(_OfacCsvReader):
    """OFAC consolidated non-SDN list, legacy CSV folder (``cons_prim.csv``, ``cons_alt.csv``, ...)."""

    format = "ofac-cons-csv"
    list_name = "OFAC-CONS"
    primary_file = "cons_prim.csv"
    alias_file = "cons_alt.csv"
    address_file = "cons_add.csv"
    comments_file = "cons_comments.csv"
