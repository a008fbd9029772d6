"""Per-account state the account kernel reads and updates, in record arrays indexed by account id.

Account ids grow over the process lifetime (:class:`aegis.model.AccountIndex`), so the arrays
grow geometrically when a larger id arrives. Each account holds a fixed amount: one
:data:`ACCOUNT` record (ring position and fill for VELOCITY; count, mean and M2 of log(amount)
for AMOUNT) and a ring of its last ``ring_size`` payments (:data:`EVENT`: time and amount),
i.e. ``40 + 16 · ring_size`` bytes (1,064 bytes at the default ring size of 64).
"""

from __future__ import annotations

import numpy as np

#: One account's scalars; kept in one record so the kernel fetches them with one cache miss.
ACCOUNT = np.dtype([("head", np.int64), ("fill", np.int64), ("history", np.int64),
                    ("mean", np.float64), ("m2", np.float64)])
#: One remembered payment: time (ns since the epoch, UTC) and amount (major units).
EVENT = np.dtype([("ts", np.int64), ("amount", np.float64)])
_MIN_CAPACITY = 1024


class AccountState:
    """Velocity rings and amount statistics for every debtor account seen so far."""

    def __init__(self, ring_size: int, capacity: int = _MIN_CAPACITY):
        self.ring_size = ring_size
        capacity = max(int(capacity), 1)
        self.accounts = np.zeros(capacity, dtype=ACCOUNT)
        self.ring = np.zeros((capacity, ring_size), dtype=EVENT)

    @property
    def capacity(self) -> int:
        """How many account ids the arrays hold now."""
        return self.accounts.shape[0]

    @property
    def nbytes(self) -> int:
        return self.accounts.nbytes + self.ring.nbytes

    def ensure(self, max_account: int) -> None:
        """Grow the arrays (at least doubling) so that id ``max_account`` fits."""
        capacity = self.capacity
        if max_account < capacity:
            return
        new = max(2 * capacity, max_account + 1)
        self.accounts = _grown(self.accounts, new)
        self.ring = _grown(self.ring, new)


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out
