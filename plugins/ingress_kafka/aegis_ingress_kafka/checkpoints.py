"""Scoring-state checkpoints per input partition in a compacted Kafka topic.

One record per input partition, key ``<group>/<topic>/<partition>``, value = the offset the state
reflects (8 bytes, big-endian) followed by the kernel's opaque blob
(:meth:`aegis._manager.PluginHost.checkpoint_shards`). Everything goes to partition 0 of the state
topic, so one ordered log holds every checkpoint of the group.

Reading the latest checkpoints cannot rely on end offsets (some brokers report them wrongly, and a
racing writer moves them): the reader first produces a tombstone with a unique *marker* key and
reads from the beginning until it sees that marker, so every checkpoint acknowledged before the
read started has been seen. Tombstones are removed by compaction.
"""

from __future__ import annotations

import struct
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

_OFFSET = struct.Struct(">q")
STATE_PARTITION = 0


class CheckpointError(Exception):
    """A checkpoint could not be written or read in time."""


class StateCheckpoints:
    """Writes and reads the checkpoints of one group's input topic in ``state_topic``."""

    def __init__(self, producer: Producer, consumer_config: Mapping[str, object], state_topic: str, group: str,
                 topic: str, flush: Callable[[float], int] | None = None):
        self.producer = producer
        # how to flush: the source passes Outputs.flush, so a shared producer is served under its lock
        self.flush = flush or producer.flush
        self.consumer_config = dict(consumer_config)
        self.state_topic = state_topic
        self.prefix = f"{group}/{topic}/"

    def key(self, partition: int) -> bytes:
        return f"{self.prefix}{partition}".encode()

    def _produce_and_flush(self, records: Iterable[tuple[bytes, bytes | None]], timeout: float) -> None:
        errors: list[str] = []

        def report(err: KafkaError | None, _msg: object) -> None:
            if err is not None:
                errors.append(str(err))

        count = 0
        for key, value in records:
            self.producer.produce(self.state_topic, value, key, partition=STATE_PARTITION, on_delivery=report)
            count += 1
        left = self.flush(timeout)
        if left or errors:
            raise CheckpointError(f"{self.state_topic}: {left} of {count} record(s) not delivered within "
                                  f"{timeout:.1f} s{'; ' + errors[0] if errors else ''}")

    def write(self, blobs: Mapping[int, bytes], offsets: Mapping[int, int], timeout: float) -> None:
        """Store each partition's state with the next offset it reflects; returns once the broker has them."""
        self._produce_and_flush(((self.key(p), _OFFSET.pack(offsets[p]) + blob) for p, blob in blobs.items()),
                                timeout)

    def read(self, partitions: Iterable[int], timeout: float) -> dict[int, tuple[int, bytes]]:
        """The latest checkpoint of each of ``partitions`` that has one: partition → (offset, blob)."""
        wanted = {self.key(p): p for p in partitions}
        marker = f"{self.prefix}marker/{uuid.uuid4().hex}".encode()
        self._produce_and_flush([(marker, None)], timeout)
        consumer = Consumer({**self.consumer_config, "group.id": f"{self.prefix}state-reader",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        found: dict[int, tuple[int, bytes]] = {}
        deadline = time.monotonic() + timeout
        try:
            consumer.assign([TopicPartition(self.state_topic, STATE_PARTITION, -2)])  # -2: beginning
            while True:
                if time.monotonic() >= deadline:
                    raise CheckpointError(f"{self.state_topic}: the read marker did not come back within "
                                          f"{timeout:.1f} s")
                for m in consumer.consume(1000, 0.1):
                    if m.error() is not None:
                        if m.error().code() == KafkaError._PARTITION_EOF:
                            continue
                        raise CheckpointError(f"{self.state_topic}: {m.error()}")
                    key = m.key()
                    if key == marker:
                        return found
                    partition = wanted.get(key)
                    if partition is None:
                        continue
                    value = m.value()
                    if not value:  # a tombstone: the partition's state was deleted
                        found.pop(partition, None)
                    elif len(value) < _OFFSET.size:
                        raise CheckpointError(f"{self.state_topic}: checkpoint {key.decode()} is truncated")
                    else:
                        found[partition] = (_OFFSET.unpack_from(value)[0], value[_OFFSET.size:])
        finally:
            consumer.close()


class PartitionState:
    """Moves the scoring plugins' state with the partitions: checkpoint on revoke, restore on assign.

    ``host`` is the kernel's :class:`aegis._manager.PluginHost`; its shard calls run on the
    pipeline's main thread between batches, so they see exactly the acknowledged batches.
    """

    def __init__(self, store: StateCheckpoints, host: ShardHost, timeout: float):
        self.store = store
        self.host = host
        self.timeout = timeout
        self.saved = 0  # checkpoints written
        self.restored = 0  # checkpoints read back on assignment

    def save(self, offsets: Mapping[int, int]) -> None:
        """Checkpoint each partition's state with ``offsets`` (partition → next offset it reflects)."""
        if not offsets:
            return
        blobs = self.host.checkpoint_shards(sorted(offsets))
        self.store.write(blobs, offsets, self.timeout)
        self.saved += len(blobs)

    def restore(self, partitions: list[int]) -> dict[int, int]:
        """Restore the state of newly assigned ``partitions``; returns where each checkpointed one resumes."""
        found = self.store.read(partitions, self.timeout)
        self.host.restore_shards(partitions, {p: blob for p, (_, blob) in found.items()})
        self.restored += len(found)
        return {p: offset for p, (offset, _) in found.items()}


class ShardHost(Protocol):
    """What :class:`PartitionState` needs of the kernel's plugin host."""

    def checkpoint_shards(self, shards: Sequence[int]) -> dict[int, bytes]: ...

    def restore_shards(self, shards: Sequence[int], blobs: Mapping[int, bytes]) -> None: ...
