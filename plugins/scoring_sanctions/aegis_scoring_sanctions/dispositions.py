"""Analysts' dispositions: a confirmed false positive (query name or account + list entry) does not alert again.

The file is YAML (a list of mappings) or CSV (a header row with the same fields)::

    - name: "Jon Smith"            # the screened name (compared after normalisation, any token order)
      account: null                 # or the party's account; at least one of name and account
      list: OFAC-SDN                # the list name as in explanations (OFAC-SDN, OFAC-CONS, UN-SC)
      entry_id: "12345"
      decided_by: j.doe             # who
      decided_at: 2026-03-01T10:00:00Z   # when (ISO 8601)
      reason: "different person: born 1984, listed 1955"   # why

A disposition removes only that entry for that name or account; other entries still match.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aegis.errors import AegisError
from aegis_scoring_sanctions.entries import ListEntry
from aegis_scoring_sanctions.normalize import normalize


class DispositionError(AegisError):
    """The dispositions file is unreadable or a record in it is invalid."""


class Disposition(BaseModel):
    """One analyst decision: this name or account is not this list entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str | None = Field(None, description="screened name the decision is about")
    account: str | None = Field(None, description="party account the decision is about")
    list: str = Field(min_length=1, description="list name, e.g. OFAC-SDN or UN-SC")
    entry_id: str = Field(min_length=1, description="the list entry's id")
    decided_by: str = Field(min_length=1, description="who decided")
    decided_at: datetime = Field(description="when it was decided (ISO 8601)")
    reason: str = Field(min_length=1, description="why it is not a match")

    @model_validator(mode="after")
    def _subject(self) -> Disposition:
        if not self.name and not self.account:
            raise ValueError("a disposition needs a name, an account or both")
        return self

    def describe(self) -> str:
        return (f"disposition by {self.decided_by} at {self.decided_at.isoformat()}: not a match "
                f"({self.reason})")


class Dispositions:
    """Dispositions indexed by list entry, with the file's content hash as version."""

    def __init__(self, records: list[Disposition], version: str = "none", path: Path | None = None):
        self.records = records
        self.version = version
        self.path = path
        self._by_entry: dict[tuple[str, str], list[tuple[str | None, str | None, Disposition]]] = defaultdict(list)
        for d in records:
            key = normalize(d.name).key if d.name else None
            self._by_entry[(d.list, d.entry_id)].append((key, d.account, d))

    @classmethod
    def empty(cls) -> Dispositions:
        return cls([])

    def __len__(self) -> int:
        return len(self.records)

    def __bool__(self) -> bool:
        return bool(self.records)

    def find(self, name_key: str, account: str | None, entry: ListEntry) -> Disposition | None:
        """The disposition clearing ``entry`` for this normalised name or account, if any."""
        for key, acct, d in self._by_entry.get(entry.key, ()):
            if (key is not None and key == name_key) or (acct is not None and account is not None
                                                         and acct == account):
                return d
        return None

    @classmethod
    def load(cls, path: Path) -> Dispositions:
        """Read and check a YAML or CSV dispositions file; every invalid record is reported."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise DispositionError(f"{path}: cannot read dispositions: {exc.strerror}") from exc
        return cls.parse(content, path)

    @classmethod
    def parse(cls, content: bytes, path: Path) -> Dispositions:
        if path.suffix.lower() == ".csv":
            rows: list = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
            rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
        else:
            try:
                rows = yaml.safe_load(content) or []
            except yaml.YAMLError as exc:
                raise DispositionError(f"{path}: not valid YAML: {exc}") from exc
            if not isinstance(rows, list):
                raise DispositionError(f"{path}: expected a list of dispositions, got {type(rows).__name__}")
        records, errors = [], []
        for i, row in enumerate(rows, start=1):
            try:
                records.append(Disposition.model_validate(row))
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors())
                errors.append(f"record {i}: {problems}")
        if errors:
            raise DispositionError(f"{path}: {len(errors)} invalid disposition(s): " + " | ".join(errors))
        version = "sha256:" + hashlib.sha256(content).hexdigest()[:16]
        return cls(records, version, path)
