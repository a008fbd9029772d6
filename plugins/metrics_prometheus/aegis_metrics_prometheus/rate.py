"""A transactions-per-second rate over a sliding time window."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingRate:
    """Events per second over the last ``window`` seconds; falls to 0 when nothing arrives.

    Counts are kept in time slots of ``resolution`` seconds, so memory stays bounded
    (``window / resolution`` slots) however many batches arrive.
    """

    def __init__(self, window: float, resolution: float = 0.1, clock: Callable[[], float] = time.monotonic):
        if window <= 0 or resolution <= 0 or resolution > window:
            raise ValueError(f"need 0 < resolution <= window, got window={window}, resolution={resolution}")
        self.window = window
        self.resolution = resolution
        self._clock = clock
        self._slots_in_window = math.ceil(window / resolution)
        self._slots: deque[list[int]] = deque()  # [slot number, count], oldest first
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """Record ``count`` events now."""
        slot = int(self._clock() // self.resolution)
        with self._lock:
            if self._slots and self._slots[-1][0] == slot:
                self._slots[-1][1] += count
            else:
                self._slots.append([slot, count])
            self._expire(slot)

    def per_second(self) -> float:
        """Events per second averaged over the window ending now."""
        slot = int(self._clock() // self.resolution)
        with self._lock:
            self._expire(slot)
            return sum(count for _, count in self._slots) / self.window

    def _expire(self, current_slot: int) -> None:
        oldest = current_slot - self._slots_in_window + 1
        while self._slots and self._slots[0][0] < oldest:
            self._slots.popleft()
