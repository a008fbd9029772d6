"""A bounded memory of recently written UETRs: what makes writing idempotent across re-deliveries."""

from __future__ import annotations

from collections import deque


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
