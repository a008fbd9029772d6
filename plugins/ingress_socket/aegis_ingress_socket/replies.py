"""Result frames: a decision as the client sees it (its audit record without the transaction),
a rejected transaction, a request-level error; and the recent decisions kept by UETR."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

#: Members of a stored audit line that a reply leaves out: the transaction (the client sent it)
#: and the sink's hash-chain member (storage, not decision).
NOT_IN_REPLY = frozenset({"transaction", "chain"})


def record_result(record: dict[str, Any]) -> bytes:
    """A stored audit record (from ``aegis_audit_lookup``) as a result frame, equal to the first reply
    (:meth:`aegis.decide.Decisions.summaries`)."""
    return orjson.dumps({k: v for k, v in record.items() if k not in NOT_IN_REPLY})


def reject_result(index: int, uetr: str | None, reason: str) -> bytes:
    return orjson.dumps({"index": index, "uetr": uetr, "error": reason})


def error_result(message: str, **extra: Any) -> bytes:
    return orjson.dumps({"error": message, **extra})


class ReplayCache:
    """The result frames of the last ``capacity`` decided UETRs.

    A UETR decided again (a RETRY, or a duplicate the audit sinks skipped) is answered with the
    first decision, which is the one on record. Written by the acknowledgement, read by the intake.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._results: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._results)

    def get(self, uetr: str) -> bytes | None:
        return self._results.get(uetr)

    def remember(self, uetrs: list[str], results: list[bytes]) -> list[bytes]:
        """Keep each UETR's first result; return the results to send (the remembered one for a repeat)."""
        if self.capacity == 0:
            return results
        out = results
        with self._lock:
            known = self._results
            setdefault = known.setdefault
            for i, uetr in enumerate(uetrs):
                kept = setdefault(uetr, results[i])
                if kept is not results[i]:
                    if out is results:
                        out = list(results)
                    out[i] = kept
            excess = len(known) - self.capacity
            for _ in range(excess):
                known.popitem(last=False)
        return out
