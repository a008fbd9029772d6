"""What an acknowledged batch sends back to Kafka: decisions keyed by UETR, rejects as dead letters.

Both go through one idempotent producer (``enable.idempotence``: retries never duplicate or
reorder within a partition). Each message's delivery report settles its batch's
:class:`~aegis_ingress_kafka.tracker.Polled` entry, so offsets wait for the broker.
"""

from __future__ import annotations

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
    """Produces a batch's decisions and dead letters and registers their deliveries."""

    def __init__(self, producer: Producer, tracker: CommitTracker, decisions_topic: str | None,
                 dead_letter_topic: str | None):
        self.producer = producer
        self.tracker = tracker
        self.decisions_topic = decisions_topic
        self.dead_letter_topic = dead_letter_topic
        self.decisions_sent = 0
        self.dead_letters_sent = 0

    def _produce(self, topic: str, value: bytes | None, key: bytes | None, entry: Polled,
                 headers: list[tuple[str, bytes]] | None = None) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, headers=headers, on_delivery=entry.on_delivery)
                return
            except BufferError:  # local queue full: serve delivery reports until there is room
                self.producer.poll(0.05)

    def publish(self, raw: RawBatch, decisions: Decisions | None, rejects: Sequence[Reject]) -> None:
        entry: Polled = raw.token
        if self.decisions_topic is not None and decisions is not None and len(decisions):
            lines = decisions.lines()
            self.tracker.expect(entry, len(lines))
            topic, produce, delivered = self.decisions_topic, self.producer.produce, entry.on_delivery
            for uetr, line in zip(decisions.uetr, lines, strict=True):
                try:
                    produce(topic, line, uetr.encode(), on_delivery=delivered)
                except BufferError:
                    self.producer.poll(0.05)
                    self._produce(topic, line, uetr.encode(), entry)
            self.decisions_sent += len(lines)
        if self.dead_letter_topic is not None and rejects:
            index = {origin: i for i, origin in enumerate(raw.origins)}
            self.tracker.expect(entry, len(rejects))
            for reject in rejects:
                i = index.get(reject.origin)
                key, value = (entry.keys[i], reject.payload) if i is not None else \
                    entry.own_rejects.get(reject.origin, (None, reject.payload))
                headers = [(REASON, reject.reason.encode()), (ORIGIN, reject.origin.encode())]
                if (parts := parse_origin(reject.origin)) is not None:
                    headers += [(SOURCE_TOPIC, parts[0].encode()), (SOURCE_PARTITION, str(parts[1]).encode()),
                                (SOURCE_OFFSET, str(parts[2]).encode())]
                self._produce(self.dead_letter_topic, value, key, entry, headers)
            self.dead_letters_sent += len(rejects)
        self.producer.poll(0)
