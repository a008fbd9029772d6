"""Per-account state the feature kernel reads and updates, in record arrays indexed by account id.

Every account, in any role, holds a fixed amount: one :data:`ACCOUNT` record (counts, running
mean and M2 of log(amount) paid, observed net inflow, ring positions) and two rings of
``ring_size`` :data:`EVENT` records — its last payments out and its last payments in (time,
amount, counterparty). That is ``96 + 48 · ring_size`` bytes (864 bytes at the default 16).
Arrays grow geometrically when a larger account id arrives (ids are dense, per process).
"""

from __future__ import annotations

import numpy as np

#: One account's scalars, fetched together by the kernel.
ACCOUNT = np.dtype([
    ("seen", np.int64),  # payments it took part in, any role
    ("paid", np.int64),  # payments it made (history of the amount statistics)
    ("received", np.int64),  # payments it received
    ("mean", np.float64),  # running mean of log(amount) paid
    ("m2", np.float64),  # running sum of squared deviations of log(amount) paid
    ("net", np.float64),  # inflows minus outflows seen in the stream
    ("last_in_ns", np.int64),  # time of the latest inflow (0: none)
    ("out_head", np.int64), ("out_fill", np.int64),
    ("in_head", np.int64), ("in_fill", np.int64),
    ("exposure", np.int64),  # unusual payments it took part in (new amount, or a repeat within 24 h)
])
#: One remembered payment: time (ns since the epoch, UTC), amount (major units), counterparty id.
EVENT = np.dtype([("ts", np.int64), ("amount", np.float64), ("cp", np.int64)])
_MIN_CAPACITY = 1024


class AccountState:
    """Rings and running statistics for every account seen so far."""

    def __init__(self, ring_size: int, capacity: int = _MIN_CAPACITY):
        self.ring_size = ring_size
        capacity = max(int(capacity), 1)
        self.accounts = np.zeros(capacity, dtype=ACCOUNT)
        self.out_ring = np.zeros((capacity, ring_size), dtype=EVENT)
        self.in_ring = np.zeros((capacity, ring_size), dtype=EVENT)

    @property
    def capacity(self) -> int:
        """How many account ids the arrays hold now."""
        return self.accounts.shape[0]

    @property
    def nbytes(self) -> int:
        return self.accounts.nbytes + self.out_ring.nbytes + self.in_ring.nbytes

    @staticmethod
    def bytes_per_account(ring_size: int) -> int:
        return ACCOUNT.itemsize + 2 * ring_size * EVENT.itemsize

    def ensure(self, max_account: int) -> None:
        """Grow the arrays (at least doubling) so that id ``max_account`` fits."""
        capacity = self.capacity
        if max_account < capacity:
            return
        new = max(2 * capacity, max_account + 1)
        self.accounts = _grown(self.accounts, new)
        self.out_ring = _grown(self.out_ring, new)
        self.in_ring = _grown(self.in_ring, new)


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out
