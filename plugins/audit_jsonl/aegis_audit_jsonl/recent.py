"""A bounded memory of recently written UETRs: what makes writing idempotent across re-deliveries."""

from __future__ import annotations

from collections import deque

import orjson

_UETR_PREFIX = b'{"uetr":"'
_UETR_END = len(_UETR_PREFIX) + 36


def record_uetr(line: bytes) -> str | None:
    """The ``uetr`` of a record line: sliced when the line starts with it (as the kernel renders
    records), parsed with orjson otherwise; ``None`` for a line that is no record."""
    if line.startswith(_UETR_PREFIX) and line[_UETR_END:_UETR_END + 1] == b'"':
        return line[len(_UETR_PREFIX):_UETR_END].decode("ascii", "replace")
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    uetr = record.get("uetr") if isinstance(record, dict) else None
    return uetr if isinstance(uetr, str) else None


class RecentUetrs:
    """The last ``capacity`` UETRs written, as a set for lookups and a queue for eviction order."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._known: set[str] = set()
        self._order: deque[str] = deque()

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, uetr: str) -> bool:
        return uetr in self._known

    def fresh(self, uetrs: list[str]) -> list[int] | None:
        """Indexes of ``uetrs`` not yet known (first occurrence only), or ``None`` when all are fresh."""
        known = self._known
        if known.isdisjoint(uetrs) and len(set(uetrs)) == len(uetrs):
            return None
        seen: set[str] = set()
        keep = []
        for i, uetr in enumerate(uetrs):
            if uetr not in known and uetr not in seen:
                seen.add(uetr)
                keep.append(i)
        return keep

    def add(self, uetrs: list[str]) -> None:
        """Remember ``uetrs`` (none of them known yet), forgetting the oldest beyond capacity."""
        known, order = self._known, self._order
        known.update(uetrs)
        order.extend(uetrs)
        excess = len(order) - self.capacity
        if excess > 0:
            popleft, discard = order.popleft, known.discard
            for _ in range(excess):
                discard(popleft())
