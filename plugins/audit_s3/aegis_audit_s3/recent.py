"""A bounded memory of recently written UETRs and the object each is in: idempotence and fast lookups."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class RecentUetrs:
    """The last ``capacity`` UETRs written, each with the first seq of the object that holds it."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._objects: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, uetr: str) -> bool:
        return uetr in self._objects

    def object_of(self, uetr: str) -> int | None:
        return self._objects.get(uetr)

    def add(self, uetrs: Iterable[str], object_seq: int) -> None:
        """Remember ``uetrs`` as stored in the object starting at ``object_seq``; forget the oldest beyond capacity."""
        objects = self._objects
        for uetr in uetrs:
            objects[uetr] = object_seq
            objects.move_to_end(uetr)
        while len(objects) > self.capacity:
            objects.popitem(last=False)
