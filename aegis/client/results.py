"""What the sidecar answers, as Python values, and the errors a client raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


class ClientError(Exception):
    """Base of every error the Aegis client raises."""


class Busy(ClientError):
    """The server's in-flight window stayed full through every retry; nothing was screened."""


class ScreeningTimeout(ClientError, TimeoutError):
    """No reply within the timeout, through every retry. The outcome is unknown: retry later (RETRY)."""


class RequestError(ClientError):
    """The server could not read the request (status ERROR); the message says what is wrong."""


class Rejected(ClientError):
    """The transaction failed validation; ``error`` names the field and the problem."""

    def __init__(self, error: str, uetr: str | None = None):
        super().__init__(error)
        self.error = error
        self.uetr = uetr


@dataclass(frozen=True)
class Decision:
    """One decision, as recorded in the audit trail (``record`` has every field)."""

    uetr: str
    decision: str  # CLEAR | INVESTIGATE | BLOCK
    reason_code: str
    risk_score: float
    risk_factors: dict[str, float]
    explanation: dict[str, str]
    record: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Decision:
        return cls(uetr=record["uetr"], decision=record["decision"], reason_code=record["reason_code"],
                   risk_score=record["risk_score"], risk_factors=record.get("risk_factors") or {},
                   explanation=record.get("explanation") or {}, record=record)


@dataclass(frozen=True)
class RecordError:
    """A transaction of a batch that failed validation (the others were still screened)."""

    index: int
    uetr: str | None
    error: str


def parse_result(frame: bytes) -> Decision | RecordError:
    """One result frame of an OK or REJECTED reply."""
    doc = orjson.loads(frame)
    if "error" in doc:
        return RecordError(index=doc.get("index", 0), uetr=doc.get("uetr"), error=doc["error"])
    return Decision.from_record(doc)


def error_message(frames: list[bytes]) -> str:
    """The ``error`` of an ERROR or BUSY reply's JSON frame (or the raw frame when it is not JSON)."""
    if not frames:
        return "(no detail)"
    try:
        return str(orjson.loads(frames[0]).get("error", frames[0].decode("utf-8", "replace")))
    except (orjson.JSONDecodeError, AttributeError):
        return frames[0].decode("utf-8", "replace")
