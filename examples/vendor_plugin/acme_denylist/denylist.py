"""The denylist file: reading, validating and versioning the CSV of listed accounts.

The CSV has the header ``account,reason,listed_at,listed_by`` and one account per row.
Accounts are normalised exactly as Aegis normalises a transaction's accounts (an IBAN
loses its spaces and must pass its checksum; any other id is kept as written), so a
listed account matches the string the payment carries. A file with any bad row, or with
no rows at all, is refused as a whole: a half-read or truncated list must never become
the active one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from aegis.model import Party

COLUMNS = ("account", "reason", "listed_at", "listed_by")
#: How many problems an error message lists before summarising the rest.
_SHOWN_PROBLEMS = 5


class DenylistError(ValueError):
    """The denylist file cannot be used; the message names the file and the lines at fault."""


@dataclass(frozen=True)
class ListedAccount:
    """One row of the denylist."""

    account: str
    reason: str
    listed_at: str
    listed_by: str
    line: int


@dataclass(frozen=True)
class Denylist:
    """A validated denylist: its entries by account, the accounts as an array, and its version."""

    source: Path
    version: str
    entries: Mapping[str, ListedAccount]
    accounts: np.ndarray  # the listed accounts, sorted, as a unicode array for binary search

    def __len__(self) -> int:
        return len(self.entries)


def version_of(data: bytes) -> str:
    """The list's version as recorded in every decision: ``sha256:<first 16 hex digits>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def read_denylist(path: Path) -> Denylist:
    """Read and validate the denylist at ``path``; raise :class:`DenylistError` if it is unusable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DenylistError(f"cannot read denylist {path}: {exc.strerror}") from exc
    return parse_denylist(data, Path(path))


def parse_denylist(data: bytes, source: Path) -> Denylist:
    """Validate the CSV bytes of a denylist read from ``source``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DenylistError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise DenylistError(f"{source}:{reader.line_num}: malformed CSV: {exc}") from None
    if not rows:
        raise DenylistError(f"{source}: empty file; expected the header {','.join(COLUMNS)}")
    header_line, header = rows[0]
    if tuple(h.strip() for h in header) != COLUMNS:
        raise DenylistError(f"{source}:{header_line}: header must be {','.join(COLUMNS)}, "
                            f"got {','.join(header)}")
    entries: dict[str, ListedAccount] = {}
    problems: list[str] = []
    for line, row in rows[1:]:
        try:
            entry = _entry(row, line)
        except ValueError as exc:
            problems.append(f"{source}:{line}: {exc}")
            continue
        if (first := entries.get(entry.account)) is not None:
            problems.append(f"{source}:{line}: account {entry.account} is already listed on line {first.line}")
            continue
        entries[entry.account] = entry
    if problems:
        more = len(problems) - _SHOWN_PROBLEMS
        shown = "; ".join(problems[:_SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise DenylistError(f"denylist refused, {len(problems)} bad row(s): {shown}")
    if not entries:
        raise DenylistError(f"{source}: no accounts listed; an empty denylist is refused so that a truncated "
                            f"file cannot silently clear every payment")
    accounts = np.sort(np.array(list(entries), dtype=str))
    return Denylist(source=source, version=version_of(data), entries=entries, accounts=accounts)


def _entry(row: list[str], line: int) -> ListedAccount:
    if len(row) != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), got {len(row)}")
    account, reason, listed_at, listed_by = (cell.strip() for cell in row)
    try:
        account = Party(account=account).account
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"account {account!r}: {reason}") from None
    if not reason:
        raise ValueError(f"account {account}: reason is empty")
    if not listed_by:
        raise ValueError(f"account {account}: listed_by is empty")
    try:
        datetime.fromisoformat(listed_at)
    except ValueError:
        raise ValueError(f"account {account}: listed_at {listed_at!r} is not an ISO 8601 date") from None
    return ListedAccount(account=account, reason=reason, listed_at=listed_at, listed_by=listed_by, line=line)
