"""What a sanctions list holds once read: entries with their names, birth dates and countries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

#: Entry kinds. Vessels and aircraft are never matched to a person by name alone.
INDIVIDUAL = "individual"
ENTITY = "entity"
VESSEL = "vessel"
AIRCRAFT = "aircraft"
KINDS = (INDIVIDUAL, ENTITY, VESSEL, AIRCRAFT)

#: Name kinds: the listed name, aliases, and a name as written in its original script.
PRIMARY = "primary"
AKA = "aka"
FKA = "fka"
NKA = "nka"
ORIGINAL_SCRIPT = "original-script"


@dataclass(frozen=True)
class ListedName:
    """One name of an entry. ``weak`` marks low-quality aliases (UN ``Low``, OFAC weak a.k.a.)."""

    text: str
    kind: str = PRIMARY
    weak: bool = False


@dataclass(frozen=True)
class BirthDate:
    """A listed date of birth: exact (year, month, day), a year, or a range of years."""

    year_from: int
    year_to: int
    month: int = 0  # 0: unknown
    day: int = 0  # 0: unknown
    approximate: bool = False

    def __str__(self) -> str:
        if self.year_from != self.year_to:
            return f"{self.year_from}-{self.year_to}"
        text = f"{self.year_from:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return ("circa " if self.approximate else "") + text


@dataclass(frozen=True)
class ListEntry:
    """One sanctioned party: its list, id, kind, every name, and what identifies it further."""

    list_name: str
    entry_id: str
    kind: str
    names: tuple[ListedName, ...]
    birth_dates: tuple[BirthDate, ...] = ()
    countries: frozenset[str] = frozenset()  # ISO 3166-1 alpha-2: nationality, citizenship, addresses
    programs: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.list_name, self.entry_id

    @property
    def primary_name(self) -> str:
        return self.names[0].text

    def fingerprint(self) -> str:
        """A digest of what screening uses, to tell a changed entry between two list versions."""
        parts = [self.kind, *(f"{n.kind}:{n.weak}:{n.text}" for n in self.names),
                 *map(str, self.birth_dates), *sorted(self.countries)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SanctionsList:
    """One loaded list: where it came from, its version string and its entries."""

    source: str  # the configured label, e.g. "ofac-csv:/data/ofac"
    list_name: str  # e.g. "OFAC-SDN", "UN-SC"
    version: str  # e.g. "OFAC-SDN-2021-07-07", "UN-SC-2026-02-27"
    entries: tuple[ListEntry, ...]
    files: tuple[Path, ...] = ()
    sha256: str = ""  # over the bytes of ``files``, in order
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.entries)

    def by_key(self) -> dict[tuple[str, str], ListEntry]:
        return {e.key: e for e in self.entries}


def files_sha256(files: list[Path] | tuple[Path, ...]) -> str:
    """SHA-256 over the bytes of ``files`` in order (name-separated), the content identity of a list."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
