"""Which offsets may be committed: batches polled, acknowledged by the kernel, and delivered.

Every polled batch gets a :class:`Polled` entry (the ``RawBatch.token``). It becomes *done*
when the kernel acknowledged it (its audit records and dead letters are durable) and the
broker confirmed every decision and dead-letter message produced for it. Offsets are only
ever committed for the done prefix of the entries in poll order, so a committed offset
never runs ahead of a record that is not yet durable everywhere.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

TopicPartitionKey = tuple[str, int]


@dataclass(eq=False)
class Polled:
    """One polled batch: the next offset per partition it reaches, and its delivery state."""

    seq: int
    records: int
    offsets: dict[TopicPartitionKey, int]
    keys: list[bytes | None] = field(repr=False)  # message keys, aligned with ``RawBatch.origins``
    tracker: CommitTracker = field(repr=False)
    #: records the source itself rejected (empty messages): origin → (key, value as received)
    own_rejects: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict, repr=False)
    outstanding: int = 0
    acked: bool = False
    failure: str | None = None

    @property
    def done(self) -> bool:
        return self.acked and self.outstanding == 0 and self.failure is None

    def on_delivery(self, err: object, msg: object) -> None:
        """Producer delivery report for one message of this batch (any thread that polls the producer)."""
        self.tracker.delivered(self, None if err is None else str(err))


class CommitTracker:
    """Entries in poll order, the records in flight, and the first delivery failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[Polled] = deque()
        self._seq = 0
        self.in_flight = 0  # records polled and not yet acknowledged by the kernel
        self.failure: str | None = None

    def polled(self, records: int, offsets: dict[TopicPartitionKey, int], keys: list[bytes | None],
               own_rejects: dict[str, tuple[bytes | None, bytes | None]] | None = None) -> Polled:
        with self._lock:
            self._seq += 1
            entry = Polled(self._seq, records, offsets, keys, self, own_rejects=own_rejects or {})
            self._pending.append(entry)
            self.in_flight += records
            return entry

    def expect(self, entry: Polled, messages: int) -> None:
        """``messages`` more deliveries must be confirmed before ``entry`` is done."""
        with self._lock:
            entry.outstanding += messages

    def acked(self, entry: Polled) -> None:
        with self._lock:
            if entry.acked:
                raise RuntimeError(f"batch {entry.seq} acknowledged twice")
            entry.acked = True
            self.in_flight -= entry.records

    def delivered(self, entry: Polled, error: str | None) -> None:
        with self._lock:
            entry.outstanding -= 1
            if error is not None and entry.failure is None:
                entry.failure = error
                self.failure = self.failure or f"batch {entry.seq}: {error}"

    @property
    def pending(self) -> int:
        """Entries not yet committed (polled, unacknowledged or awaiting delivery)."""
        return len(self._pending)

    def take_done(self) -> dict[TopicPartitionKey, int]:
        """Remove the done prefix and return the offsets it reaches (partition → next offset)."""
        offsets: dict[TopicPartitionKey, int] = {}
        with self._lock:
            while self._pending and self._pending[0].done:
                entry = self._pending.popleft()
                for tp, offset in entry.offsets.items():
                    if offset > offsets.get(tp, -1):
                        offsets[tp] = offset
        return offsets
