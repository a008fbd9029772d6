"""The consumer-group member: subscription, rebalances, pause/resume and commits.

confluent-kafka's ``Consumer`` is not safe for concurrent calls, so every call goes through
one lock. In a run only the kernel's intake thread uses it (poll, commits, pause/resume; the
rebalance callbacks run inside its ``consume``); startup, self-test and shutdown use it from
the main thread while no intake thread polls.

A revoke drains: it waits until every polled batch was acknowledged by the kernel and its
decisions were confirmed (see ``tracker``), then commits synchronously, so the member that gets the
partitions next starts exactly after the last durable record (no duplicate work, nothing skipped).

With a state topic, a drained revoke also checkpoints the scoring state of the revoked
partitions (before the commit), and an assignment restores the latest checkpoints and starts
each checkpointed partition at the offset its state reflects, so state and position agree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from aegis_ingress_kafka.checkpoints import PartitionState
from aegis_ingress_kafka.config import KafkaIngressConfig
from aegis_ingress_kafka.tracker import CommitTracker, TopicPartitionKey

log = logging.getLogger("aegis.ingress.kafka")


class GroupMember:
    """One member of the consumer group, fed by :meth:`fetch`, committing what the tracker says is done."""

    def __init__(self, config: KafkaIngressConfig, tracker: CommitTracker, pump: Callable[[float], object],
                 state: PartitionState | None = None):
        self.config = config
        self.tracker = tracker
        self.state = state  # moves scoring state with the partitions (None: state stays per process)
        self._pump = pump  # serves producer delivery reports and confirms what drained (Outputs.poll)
        self._lock = threading.RLock()
        self._consumer: Consumer | None = None
        self.assigned: set[TopicPartitionKey] = set()
        self.paused = False
        self.pauses = 0  # how often backpressure paused the partitions
        self.rebalances = 0
        self.commits = 0
        self.last_activity = time.monotonic()
        self._closing = False
        self._ready: dict[TopicPartitionKey, int] = {}

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            self._consumer = Consumer({**self.config.consumer(), "on_commit": self._on_commit,
                                       "error_cb": self._on_error})
            self._consumer.subscribe([self.config.topic], on_assign=self._on_assign,
                                     on_revoke=self._on_revoke, on_lost=self._on_lost)

    def close(self) -> None:
        """Commit what is done and leave the group (call after the producer was flushed).

        Batches still unacknowledged at shutdown never will be (the kernel acknowledges before it
        shuts down), so nothing waits for them: their records are delivered again.
        """
        with self._lock:
            if self._consumer is None:
                return
            self._closing = True
            try:
                self.commit_done(asynchronous=False)
            finally:
                self._consumer.close()  # runs the revoke callback, which commits again without waiting
                self._consumer = None

    @property
    def consumer(self) -> Consumer:
        if self._consumer is None:
            raise RuntimeError("kafka consumer used before aegis_startup or after aegis_shutdown")
        return self._consumer

    # -- polling ---------------------------------------------------------------

    def fetch(self, max_records: int) -> list[Message]:
        """Up to ``max_records`` messages (fewer, or none, within ``poll_timeout``)."""
        with self._lock:
            consumer = self.consumer
            self._flow(consumer)
            messages = consumer.consume(max_records, self.config.poll_timeout)
        good = [m for m in messages if m.error() is None]
        if len(good) != len(messages):
            for m in messages:
                if (err := m.error()) is not None:
                    self._on_error(err)
        if good:
            self.last_activity = time.monotonic()
        return good

    def _flow(self, consumer: Consumer) -> None:
        """Pause every assigned partition above ``max_in_flight`` records in flight; resume below the mark."""
        in_flight, limit = self.tracker.in_flight, self.config.max_in_flight
        if not self.paused and in_flight >= limit:
            self.paused = True
            self.pauses += 1
            consumer.pause(self._partitions())
            log.info("backpressure: %d records in flight (limit %d), paused %d partition(s)",
                     in_flight, limit, len(self.assigned))
        elif self.paused and in_flight < limit * self.config.resume_at:
            self.paused = False
            consumer.resume(self._partitions())
            log.info("backpressure relieved: %d records in flight, resumed", in_flight)

    def _partitions(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in sorted(self.assigned)]

    # -- commits ---------------------------------------------------------------

    def commit_done(self, asynchronous: bool = True) -> None:
        """Commit the offsets of the done prefix, for the partitions this member still owns."""
        for tp, offset in self.tracker.take_done().items():
            self._ready[tp] = max(offset, self._ready.get(tp, -1))
        if not self._ready:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._ready.items() if (t, p) in self.assigned]
        foreign = len(self._ready) - len(offsets)
        if foreign:
            log.debug("not committing %d partition(s) no longer assigned", foreign)
        self._ready.clear()
        if not offsets:
            return
        with self._lock:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=asynchronous)
                self.commits += 1
            except KafkaException as exc:  # the records are delivered again: safe, audit is idempotent
                log.warning("offset commit failed (%s); those records will be delivered again", exc.args[0])

    def _drain(self, timeout: float) -> bool:
        """Serve delivery reports until every polled batch is done (or ``timeout``); True when all are.

        Meanwhile the main thread may still acknowledge and produce the batches the kernel holds;
        its forced drain (``commit_interval``) confirms them even if the producer never runs empty.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._pump(0.02)
            for tp, offset in self.tracker.take_done().items():
                self._ready[tp] = max(offset, self._ready.get(tp, -1))
            if self.tracker.pending == 0:
                return True
            if time.monotonic() >= deadline or self.tracker.failure is not None:
                log.warning("%d polled batch(es) not acknowledged and delivered within %.1f s; their records "
                            "are delivered again to whoever owns the partitions next", self.tracker.pending,
                            timeout)
                return False

    # -- callbacks (run inside consume on the polling thread) -------------------

    def _settled(self) -> bool:
        """True when every polled batch is done (no waiting: at shutdown nothing is acknowledged any more)."""
        self._pump(0)
        for tp, offset in self.tracker.take_done().items():
            self._ready[tp] = max(offset, self._ready.get(tp, -1))
        return self.tracker.pending == 0

    def _checkpoint(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Checkpoint the state of the revoked partitions at the consumer's position (all of it is done)."""
        assert self.state is not None
        positions = consumer.position([TopicPartition(p.topic, p.partition) for p in partitions])
        offsets = {p.partition: p.offset for p in positions if p.topic == self.config.topic and p.offset >= 0}
        try:
            self.state.save(offsets)
        except Exception as exc:  # consistent anyway: the next owner replays from an older checkpoint
            log.warning("state checkpoint of partition(s) %s failed (%s: %s); the next owner restores the "
                        "previous checkpoint and replays from its offset", sorted(offsets), type(exc).__name__, exc)
        else:
            if offsets:
                log.info("checkpointed the scoring state of partition(s) %s at offset(s) %s", sorted(offsets),
                         [offsets[p] for p in sorted(offsets)])

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1
        self.assigned = {(p.topic, p.partition) for p in partitions}
        if self.state is not None and partitions:
            # Raising here stops the run: scoring without the partitions' state would be wrong.
            resume = self.state.restore([p.partition for p in partitions])
            for p in partitions:
                if p.partition in resume:
                    p.offset = resume[p.partition]
            if resume:
                log.info("restored the scoring state of partition(s) %s; resuming at offset(s) %s",
                         sorted(resume), [resume[p] for p in sorted(resume)])
        consumer.assign(partitions)
        if self.paused:
            consumer.pause(partitions)
        self.last_activity = time.monotonic()
        log.info("assigned %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if not self._closing:
            log.info("revoking %d partition(s): draining and committing", len(partitions))
            drained = self._drain(self.config.drain_timeout)
        else:
            drained = self._settled()
        if drained and self.state is not None:
            self._checkpoint(consumer, partitions)  # before the commit: the state is never behind it
        self.commit_done(asynchronous=False)
        self.assigned.clear()
        self.last_activity = time.monotonic()

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("lost %d partition(s) (session expired); uncommitted records are delivered again",
                    len(partitions))
        self.assigned.clear()
        self._ready.clear()

    @staticmethod
    def _on_commit(err: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if err is not None and err.code() != KafkaError._NO_OFFSET:
            log.warning("offset commit failed: %s; those records will be delivered again", err)

    @staticmethod
    def _on_error(err: KafkaError) -> None:
        if err.fatal():
            raise KafkaException(err)
        log.warning("kafka: %s", err)
