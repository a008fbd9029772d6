"""The dead-letter record format every sink writes: one JSON line per rejected input record."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

import orjson

from aegis.model import Reject, utc_timestamp


def dead_letter_lines(rejects: Sequence[Reject], received_at: datetime | None = None) -> bytes:
    """JSON Lines (newline-terminated): ``origin``, ``reason``, ``uetr``, ``payload`` (UTF-8 text, or
    base64 with ``"payload_encoding": "base64"`` when the bytes are not UTF-8) and ``received_at``."""
    stamp = received_at.isoformat(timespec="microseconds").replace("+00:00", "Z") if received_at else utc_timestamp()
    out = []
    for r in rejects:
        record: dict[str, str | None] = {"origin": r.origin, "reason": r.reason, "uetr": r.uetr}
        try:
            record["payload"] = r.payload.decode("utf-8")
        except UnicodeDecodeError:
            record["payload"] = base64.b64encode(r.payload).decode("ascii")
            record["payload_encoding"] = "base64"
        record["received_at"] = stamp
        out.append(orjson.dumps(record))
    out.append(b"")
    return b"\n".join(out)
