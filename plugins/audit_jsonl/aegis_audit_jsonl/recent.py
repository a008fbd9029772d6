"""A bounded memory of recently written UETRs: what makes writing idempotent across re-deliveries."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class RecentUetrs:
    """At least the last ``capacity`` UETRs written: a set for look-ups, and the batches they came in,
    oldest first, so whole batches are forgotten at once (at most one batch beyond ``capacity``)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._known: set[str] = set()
        self._batches: deque[list[str]] = deque()

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, uetr: str) -> bool:
        return uetr in self._known

    def known(self, uetrs: Iterable[str]) -> set[str]:
        """Those of ``uetrs`` that are remembered."""
        return self._known.intersection(uetrs)

    def add(self, uetrs: list[str]) -> None:
        """Remember ``uetrs`` (none of them known yet), forgetting the oldest batches beyond capacity."""
        if not uetrs:
            return
        known, batches = self._known, self._batches
        known.update(uetrs)
        batches.append(uetrs)
        while len(known) - len(batches[0]) >= self.capacity:
            known.difference_update(batches.popleft())
