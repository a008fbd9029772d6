"""Per-account state the kernels read and update, in arrays indexed by dense account id.

Account ids grow over the process lifetime (:class:`aegis.model.AccountIndex`), so the arrays
grow geometrically when a larger id arrives. Each account holds a fixed amount: a ring of its
last ``ring_size`` payments (time and amount) for VELOCITY and three numbers (count, mean, M2 of
log(amount)) for AMOUNT, i.e. ``16 · ring_size + 40`` bytes.
"""

from __future__ import annotations

import numpy as np

_MIN_CAPACITY = 1024


class AccountState:
    """Velocity rings and amount statistics for every debtor account seen so far."""

    def __init__(self, ring_size: int, capacity: int = _MIN_CAPACITY):
        self.ring_size = ring_size
        capacity = max(int(capacity), 1)
        self.ring_ts = np.zeros((capacity, ring_size), dtype=np.int64)
        self.ring_amount = np.zeros((capacity, ring_size), dtype=np.float64)
        self.ring_head = np.zeros(capacity, dtype=np.int64)
        self.ring_fill = np.zeros(capacity, dtype=np.int64)
        self.history = np.zeros(capacity, dtype=np.int64)
        self.mean = np.zeros(capacity, dtype=np.float64)
        self.m2 = np.zeros(capacity, dtype=np.float64)

    @property
    def capacity(self) -> int:
        """How many account ids the arrays hold now."""
        return self.ring_head.shape[0]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ring_ts, self.ring_amount, self.ring_head, self.ring_fill,
                                      self.history, self.mean, self.m2))

    def ensure(self, max_account: int) -> None:
        """Grow the arrays (at least doubling) so that id ``max_account`` fits."""
        capacity = self.capacity
        if max_account < capacity:
            return
        new = max(2 * capacity, max_account + 1)
        self.ring_ts = _grown(self.ring_ts, new)
        self.ring_amount = _grown(self.ring_amount, new)
        self.ring_head = _grown(self.ring_head, new)
        self.ring_fill = _grown(self.ring_fill, new)
        self.history = _grown(self.history, new)
        self.mean = _grown(self.mean, new)
        self.m2 = _grown(self.m2, new)


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out
