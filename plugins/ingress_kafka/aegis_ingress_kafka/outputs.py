"""What an acknowledged batch sends back to Kafka: decisions keyed by UETR, rejects as dead letters.

Both go through one idempotent producer (``enable.idempotence``: retries never duplicate or
reorder within a partition). The producer reports only failed deliveries
(``delivery.report.only.error``; success reports stay in librdkafka and the bindings' C code,
which saves building a message object and calling Python for each one). A batch's messages are
confirmed instead when the producer's queue runs empty (see
:mod:`aegis_ingress_kafka.tracker`): every poll and flush of the producer goes through
:meth:`Outputs.poll` / :meth:`Outputs.flush`, which serve the reports under one lock and then,
if ``len(producer)`` is 0, confirm the acknowledged batches. The lock keeps a check on one
thread from passing while another thread is still inside a failure report it took off the queue.

:meth:`Outputs.publish` checks first thing, before it produces the next batch: by then the previous
batch had the whole time the kernel spent on this one to be delivered. Under continuous production
the queue may still never run empty (deliveries slower than batches). So once an acknowledged batch
has waited ``commit_interval`` seconds, publish flushes the producer before it produces the next
batch: offsets keep being committed at least that often.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from confluent_kafka import Producer

from aegis.decide import Decisions
from aegis.model import RawBatch, Reject
from aegis_ingress_kafka.tracker import CommitTracker, Polled

#: Dead-letter header names (values are UTF-8).
REASON = "aegis.reason"
ORIGIN = "aegis.origin"
SOURCE_TOPIC = "aegis.source.topic"
SOURCE_PARTITION = "aegis.source.partition"
SOURCE_OFFSET = "aegis.source.offset"


def parse_origin(origin: str) -> tuple[str, int, int] | None:
    """``topic/partition@offset`` → its parts (``None`` for an origin of another shape)."""
    head, sep, offset = origin.rpartition("@")
    topic, sep2, partition = head.rpartition("/")
    if not (sep and sep2 and partition.isdigit() and offset.isdigit()):
        return None
    return topic, int(partition), int(offset)


class Outputs:
    """Produces a batch's decisions and dead letters, and confirms them when the producer drained.

    ``producer`` must report failures to ``tracker.on_delivery`` (its default delivery callback)
    and is polled and flushed only through :meth:`poll` and :meth:`flush`.
    """

    def __init__(self, producer: Producer, tracker: CommitTracker, decisions_topic: str | None,
                 dead_letter_topic: str | None, commit_interval: float = 1.0):
        self.producer = producer
        self.tracker = tracker
        self.decisions_topic = decisions_topic
        self.dead_letter_topic = dead_letter_topic
        self.commit_interval = commit_interval
        self.decisions_sent = 0
        self.dead_letters_sent = 0
        self.forced_drains = 0  # flushes because an acknowledged batch waited commit_interval
        self._polling = threading.RLock()  # held while delivery reports are served and the queue checked

    # -- delivery reports ------------------------------------------------------

    def _confirm(self) -> None:
        """Confirm the acknowledged batches if the producer is empty (hold ``_polling``)."""
        tracker = self.tracker
        if tracker.unconfirmed:
            mark = tracker.mark()  # before the check: every batch acknowledged by now was produced
            if len(self.producer) == 0:
                tracker.confirm(mark)

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery reports (up to ``timeout`` seconds for the first), then confirm what drained."""
        with self._polling:
            served = self.producer.poll(timeout)
            self._confirm()
        return served

    def flush(self, timeout: float) -> int:
        """Wait up to ``timeout`` s until everything produced is delivered or failed; returns what is left."""
        with self._polling:
            left = self.producer.flush(timeout)
            self._confirm()
        return left

    # -- producing -------------------------------------------------------------

    def _produce(self, topic: str, value: bytes | None, key: bytes | None,
                 headers: list[tuple[str, bytes]] | None = None) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, headers=headers)
                return
            except BufferError:  # local queue full: serve delivery reports until there is room
                self.poll(0.05)

    def publish(self, raw: RawBatch, decisions: Decisions | None, rejects: Sequence[Reject]) -> None:
        entry: Polled = raw.token
        tracker = self.tracker
        topic = self.decisions_topic
        lines, uetrs = [], []  # rendered first: see below
        if topic is not None and decisions is not None and len(decisions):
            lines, uetrs = decisions.lines(), decisions.uetr
        # The best moment to find the queue empty: nothing was produced since the previous batch, which
        # had all of this one's scoring, audit and rendering to be delivered. (The intake thread polls
        # right after the kernel took a batch, that is right after the previous publish.)
        self.poll(0)
        if tracker.unconfirmed and tracker.waited() >= self.commit_interval:
            self.forced_drains += 1  # the queue has not run empty for a while: drain it once
            self.flush(self.commit_interval)
        if lines:
            assert topic is not None
            tracker.expect(entry, len(lines))
            produce = self.producer.produce
            for uetr, line in zip(uetrs, lines, strict=True):
                try:
                    produce(topic, line, uetr.encode())
                except BufferError:
                    self._produce(topic, line, uetr.encode())
            self.decisions_sent += len(lines)
        if self.dead_letter_topic is not None and rejects:
            index = {origin: i for i, origin in enumerate(raw.origins)}
            tracker.expect(entry, len(rejects))
            for reject in rejects:
                i = index.get(reject.origin)
                key, value = (entry.keys[i], reject.payload) if i is not None else \
                    entry.own_rejects.get(reject.origin, (None, reject.payload))
                headers = [(REASON, reject.reason.encode()), (ORIGIN, reject.origin.encode())]
                if (parts := parse_origin(reject.origin)) is not None:
                    headers += [(SOURCE_TOPIC, parts[0].encode()), (SOURCE_PARTITION, str(parts[1]).encode()),
                                (SOURCE_OFFSET, str(parts[2]).encode())]
                self._produce(self.dead_letter_topic, value, key, headers)
            self.dead_letters_sent += len(rejects)
        self.poll(0)
