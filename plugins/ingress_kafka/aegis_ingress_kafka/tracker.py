"""Which offsets may be committed: batches polled, acknowledged by the kernel, and confirmed.

Every polled batch gets a :class:`Polled` entry (the ``RawBatch.token``). It becomes *done*
when the kernel acknowledged it (its audit records and dead letters are durable) and every
decision and dead-letter message produced for it was *confirmed*. Offsets are only ever
committed for the done prefix of the entries in poll order, so a committed offset never
runs ahead of a record that is not yet durable everywhere.

Confirmation needs no report per message. The producer runs with
``delivery.report.only.error``, so only failures reach Python (:meth:`CommitTracker.on_delivery`,
the producer's default delivery callback). A message counts in ``len(producer)`` from
``produce`` until its delivery report was served by a poll of the producer, whatever its
outcome. So when ``len(producer)`` is 0, every message produced before has been delivered or
has had its failure recorded. :class:`~aegis_ingress_kafka.outputs.Outputs` checks that
after each poll of the producer and then calls :meth:`CommitTracker.confirm` with a
:meth:`~CommitTracker.mark` taken before the check: every entry acknowledged by then had
produced its messages before the check. A failure makes :meth:`~CommitTracker.confirm`
refuse from then on. The failed message belongs to an entry that was not yet confirmed
(its message still counted when earlier confirmations looked), so no commit ever covers it.
Entries confirmed before the failure were fully delivered; they stay committable.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

TopicPartitionKey = tuple[str, int]


@dataclass(eq=False)
class Polled:
    """One polled batch: the next offset per partition it reaches, and its progress to *done*."""

    seq: int
    records: int
    offsets: dict[TopicPartitionKey, int]
    keys: list[bytes | None] = field(repr=False)  # message keys, aligned with ``RawBatch.origins``
    #: records the source itself rejected (empty messages): origin → (key, value as received)
    own_rejects: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict, repr=False)
    messages: int = 0  # decisions and dead letters produced for it
    acked: bool = False
    confirmed: bool = False  # each of its messages left the producer, delivered (see the module docstring)
    ack_no: int = 0  # position among the acknowledged entries that wait for confirmation
    acked_at: float = 0.0  # time.monotonic() of the acknowledgement

    @property
    def done(self) -> bool:
        return self.acked and self.confirmed


class CommitTracker:
    """Entries in poll order, the records in flight, the entries awaiting confirmation, the first failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[Polled] = deque()
        self._unconfirmed: deque[Polled] = deque()  # acknowledged, with messages, not yet confirmed
        self._seq = 0
        self._acks = 0  # acknowledged entries that had to wait for confirmation (numbers ``ack_no``)
        self.in_flight = 0  # records polled and not yet acknowledged by the kernel
        self.failure: str | None = None

    def polled(self, records: int, offsets: dict[TopicPartitionKey, int], keys: list[bytes | None],
               own_rejects: dict[str, tuple[bytes | None, bytes | None]] | None = None) -> Polled:
        with self._lock:
            self._seq += 1
            entry = Polled(self._seq, records, offsets, keys, own_rejects=own_rejects or {})
            self._pending.append(entry)
            self.in_flight += records
            return entry

    def expect(self, entry: Polled, messages: int) -> None:
        """``messages`` more messages are produced for ``entry`` (before it is acknowledged)."""
        with self._lock:
            entry.messages += messages

    def acked(self, entry: Polled) -> None:
        """The kernel acknowledged ``entry``; every message for it has been produced."""
        with self._lock:
            if entry.acked:
                raise RuntimeError(f"batch {entry.seq} acknowledged twice")
            entry.acked = True
            self.in_flight -= entry.records
            if entry.messages:
                self._acks += 1
                entry.ack_no = self._acks
                entry.acked_at = time.monotonic()
                self._unconfirmed.append(entry)
            else:
                entry.confirmed = True  # nothing produced: nothing to wait for

    def on_delivery(self, err: object, msg: object) -> None:
        """The producer's delivery callback: with ``delivery.report.only.error`` only failures arrive."""
        if err is None:
            return
        try:
            where = f"{msg.topic()} [{msg.partition()}] key {msg.key()!r}"  # type: ignore[attr-defined]
        except Exception:  # a report without a message: the error alone
            where = "a message"
        with self._lock:
            if self.failure is None:
                self.failure = f"{where}: {err}"

    @property
    def unconfirmed(self) -> int:
        """Acknowledged entries whose messages are not yet confirmed."""
        return len(self._unconfirmed)

    def mark(self) -> int:
        """Take before checking the producer is empty; pass to :meth:`confirm`."""
        return self._acks

    def waited(self) -> float:
        """Seconds the oldest acknowledged entry has waited for confirmation (0 when none waits)."""
        with self._lock:
            return time.monotonic() - self._unconfirmed[0].acked_at if self._unconfirmed else 0.0

    def confirm(self, mark: int) -> int:
        """The producer ran empty after ``mark`` was taken: entries acknowledged up to it are confirmed.

        Refused once a delivery failed. Returns how many entries were confirmed.
        """
        confirmed = 0
        with self._lock:
            if self.failure is not None:
                return 0
            while self._unconfirmed and self._unconfirmed[0].ack_no <= mark:
                self._unconfirmed.popleft().confirmed = True
                confirmed += 1
        return confirmed

    @property
    def pending(self) -> int:
        """Entries not yet committed (polled, unacknowledged or awaiting confirmation)."""
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
