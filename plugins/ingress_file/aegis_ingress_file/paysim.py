"""PaySim transaction logs (``rawLog.part*.csv``) as transaction mappings.

PaySim rows carry no UETR, no time of day, no currency and no countries. The mapping:

* ``uetr`` = ``uuid5(uetr_namespace, "<file name>:<line number>")`` — deterministic, so a
  replay (or a resumed run) gives the same UETRs and the audit stays idempotent;
* ``created_at`` = ``start`` + ``step`` hours + the row's rank within its step in seconds
  (capped at 3599 s so a row never spills into the next hour): file order is preserved;
* ``amount`` and the balances exactly as written; ``currency`` from the config;
* ``debtor.account`` = ``nameOrig``, ``creditor.account`` = ``nameDest``,
  ``debtor_balance_before`` = ``oldBalanceOrig``, ``creditor_balance_before`` = ``oldBalanceDest``,
  ``channel`` = ``action`` (``TRANSFER``, ``CASH_OUT``, ...); countries only when configured.

``isFraud`` never enters the transaction: it goes to the side channel ``labels["is_fraud"]``.
Rows are not filtered here (a zero amount is the kernel's to reject, with its reason); only
rows that are not PaySim rows at all (wrong cell count, bad step, not UTF-8) are rejected.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from aegis.model import Reject
from aegis_ingress_file.position import Position
from aegis_ingress_file.reader import Chunk, FileReader
from aegis_ingress_file.source import SourceFile, SourceFiles
from aegis_ingress_file.uetr import row_uetrs

COLUMNS = ("step", "action", "amount", "nameOrig", "oldBalanceOrig", "newBalanceOrig", "nameDest",
           "oldBalanceDest", "newBalanceDest", "isFraud", "isFlaggedFraud", "isUnauthorizedOverdraft")
HEADER = ",".join(COLUMNS)
SECONDS_PER_STEP = 3600
#: "MM:SSZ" for every second of an hour: a row's time is its step's hour prefix plus one of these.
_WITHIN_HOUR = [f"{s // 60:02d}:{s % 60:02d}Z" for s in range(SECONDS_PER_STEP)]
_LAST_SECOND = SECONDS_PER_STEP - 1


def is_header(line: bytes) -> bool:
    """Whether ``line`` is PaySim's header row."""
    return line.rstrip(b"\r\n").decode("utf-8-sig", "replace") == HEADER


def check_headers(files: SourceFiles) -> None:
    """Every part file must start with PaySim's header; otherwise say which and what it has."""
    for source in files.files:
        with open(source.path, "rb") as f:
            first = f.readline()
        if not is_header(first):
            found = first[:200].decode("utf-8", "replace").rstrip()
            raise ValueError(f"{source.path} does not start with the PaySim header {HEADER!r}; found {found!r}")


class PaySimReader(FileReader):
    """PaySim rows as transaction mappings plus the ``is_fraud`` label of each."""

    def __init__(self, files: SourceFiles, position: Position, *, currency: str, start: datetime,
                 country: str | None, namespace: uuid.UUID):
        super().__init__(files, position)
        self.currency = currency
        self.start = start
        self.country = country
        self.namespace = namespace
        self._hours: dict[str, tuple[int, str]] = {}

    def _hour(self, text: str) -> tuple[int, str] | None:
        """(step, "YYYY-MM-DDTHH:") for a step cell, or ``None`` when it is not an hour index."""
        hour = self._hours.get(text)
        if hour is None:
            try:
                step = int(text)
            except ValueError:
                return None
            if step < 0:
                return None
            if len(self._hours) > 100_000:
                self._hours.clear()
            hour = self._hours[text] = (step, (self.start + timedelta(hours=step)).strftime("%Y-%m-%dT%H:"))
        return hour

    def _read_file(self, f: BinaryIO, source: SourceFile, wanted: int, chunk: Chunk) -> None:
        name, currency, country = source.name, self.currency, self.country
        line, step, step_row = self.position.line, self.position.step, self.position.step_row
        step_text, prefix = "", ""
        payloads, origins, rejects = chunk.payloads, chunk.origins, chunk.rejects
        fraud = chunk.labels.setdefault("is_fraud", [])
        add_payload, add_origin, add_fraud = payloads.append, origins.append, fraud.append
        while wanted > 0:
            lines = list(islice(f, wanted))
            if not lines:
                break
            # One UETR per line, headers and bad rows included: hashing in bulk beats skipping.
            uetrs = row_uetrs(self.namespace, name, range(line + 1, line + 1 + len(lines)))
            for i, text in enumerate(_decode(lines)):
                line += 1
                if text is None:
                    rejects.append(Reject(f"{name}:{line}", "the row is not UTF-8 text", lines[i].rstrip(b"\r\n")))
                    wanted -= 1
                    continue
                c = text.split(",")
                if len(c) != 12:
                    if text.strip():
                        rejects.append(Reject(f"{name}:{line}", f"a PaySim row has 12 cells, this one has "
                                              f"{len(c)}", lines[i].rstrip(b"\r\n")))
                        wanted -= 1
                    continue
                if c[0] != step_text:
                    if c[0] == "step":
                        continue  # the header, repeated at the top of every part file
                    hour = self._hour(c[0])
                    if hour is None:
                        rejects.append(Reject(f"{name}:{line}", f"step {c[0]!r} is not an hour index "
                                              f"(a non-negative integer)", lines[i].rstrip(b"\r\n")))
                        wanted -= 1
                        continue
                    step_text, prefix = c[0], hour[1]
                    if hour[0] != step:
                        step, step_row = hour[0], 0
                debtor: dict[str, Any] = {"account": c[3]}
                creditor: dict[str, Any] = {"account": c[6]}
                if country is not None:
                    debtor["country"] = creditor["country"] = country
                add_payload({"uetr": uetrs[i],
                             "created_at": prefix + _WITHIN_HOUR[step_row if step_row < _LAST_SECOND else _LAST_SECOND],
                             "amount": c[2], "currency": currency, "debtor": debtor, "creditor": creditor,
                             "channel": c[1], "debtor_balance_before": c[4], "creditor_balance_before": c[7]})
                add_origin(f"{name}:{line}")
                add_fraud(c[9] == "1")
                step_row += 1
                wanted -= 1
        self.position = replace(self.position, offset=f.tell(), line=line, step=step, step_row=step_row)


def _decode(lines: list[bytes]) -> list[str | None]:
    """The lines as text without line ends, decoded in one go; ``None`` for a line that is not UTF-8."""
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        out: list[str | None] = []
        for raw in lines:
            try:
                out.append(raw.rstrip(b"\n").decode("utf-8"))
            except UnicodeDecodeError:
                out.append(None)
        return out
    rows: list[str | None] = list(text.split("\n"))
    if text.endswith("\n"):
        rows.pop()
    return rows


def looks_like_paysim(path: Path) -> bool:
    """Whether the file at ``path`` starts with PaySim's header."""
    with open(path, "rb") as f:
        return is_header(f.readline())
