"""The ``kafka`` ingress plugin: a consumer-group member whose offsets follow durable audit."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from confluent_kafka import KafkaException, Producer

from aegis.context import Context
from aegis.decide import Decisions
from aegis.errors import AegisError
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import RawBatch, Reject
from aegis_ingress_kafka.checkpoints import PartitionState, StateCheckpoints
from aegis_ingress_kafka.config import KafkaIngressConfig
from aegis_ingress_kafka.group import GroupMember
from aegis_ingress_kafka.outputs import Outputs
from aegis_ingress_kafka.topics import missing_topics, partition_counts
from aegis_ingress_kafka.tracker import CommitTracker, TopicPartitionKey

log = logging.getLogger("aegis.ingress.kafka")


class KafkaIngressError(AegisError):
    """The Kafka source cannot go on (a decision or dead letter was not delivered, a topic is missing)."""


class KafkaIngress:
    """An endless source (``final`` only with ``idle_exit_seconds``); resumes from the group's committed offsets."""

    Config = KafkaIngressConfig

    def __init__(self, config: KafkaIngressConfig):
        self.config = config
        self.tracker = CommitTracker()
        self.producer: Producer | None = None
        self.member: GroupMember | None = None
        self.outputs: Outputs | None = None
        self._ended = False

    def _output_topics(self) -> list[str]:
        c = self.config
        return [t for t in (c.decisions_topic, c.dead_letter_topic, c.state_topic) if t is not None]

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        c = self.config
        # Failed deliveries (the only reports that reach Python) go to the tracker; see outputs.py.
        self.producer = Producer({**c.producer(), "error_cb": self._producer_error,
                                  "on_delivery": self.tracker.on_delivery})
        missing = missing_topics(self.producer, [c.topic, *self._output_topics()], timeout=10.0)
        if missing:
            raise KafkaIngressError(f"kafka ({c.bootstrap_servers}): topic(s) {', '.join(missing)} do not exist; "
                                    "create them (the plugin never auto-creates topics)")
        self.outputs = Outputs(self.producer, self.tracker, c.decisions_topic, c.dead_letter_topic,
                               c.commit_interval)
        state = None
        if c.state_topic is not None:
            if context.host is None:
                raise KafkaIngressError("kafka: state_topic needs the kernel's plugin host (context.host is not set)")
            store = StateCheckpoints(self.producer, c.client(), c.state_topic, c.group, c.topic,
                                     flush=self.outputs.flush)
            state = PartitionState(store, context.host, c.drain_timeout)
        self.member = GroupMember(c, self.tracker, self.outputs.poll, state)
        self.member.open()
        log.info("consuming %s as group %s from %s; decisions → %s, dead letters → %s", c.topic, c.group,
                 c.bootstrap_servers, c.decisions_topic, c.dead_letter_topic)

    @hookimpl
    def aegis_ingress_poll(self, max_records: int) -> RawBatch | None:
        member, tracker, outputs = self.member, self.tracker, self.outputs
        if member is None or outputs is None:
            raise KafkaIngressError("kafka: aegis_ingress_poll before aegis_startup")
        if tracker.failure is not None:
            raise KafkaIngressError(f"kafka: a decision or dead letter was not delivered ({tracker.failure}); "
                                    "offsets of the batches not yet confirmed stay uncommitted and are delivered again")
        if self._ended:
            return None
        outputs.poll(0)  # serves failure reports and confirms what the producer delivered
        member.commit_done()
        messages = member.fetch(max_records)
        if not messages:
            idle = self.config.idle_exit_seconds
            # Counted from the first assignment on: before it a killed predecessor may still hold the group.
            if idle is not None and member.rebalances and time.monotonic() - member.last_activity >= idle:
                self._ended = True
                log.info("no record for %.1f s: ending the source (idle_exit_seconds)", idle)
                return RawBatch(source=f"kafka:{self.config.topic}", payloads=[], origins=[],
                                token=tracker.polled(0, {}, []), final=True)
            return None
        return self._batch(messages)

    def _batch(self, messages: list) -> RawBatch:
        topic = self.config.topic  # the one topic the member subscribes to
        values = [m.value() for m in messages]
        partitions = [m.partition() for m in messages]
        positions = [m.offset() for m in messages]
        keys = [m.key() for m in messages]
        origins = [f"{topic}/{p}@{o}" for p, o in zip(partitions, positions, strict=True)]
        # next offset per partition: messages of a partition arrive in offset order, the last one wins
        offsets: dict[TopicPartitionKey, int] = {(topic, p): o + 1 for p, o in zip(partitions, positions, strict=True)}
        rejects: list[Reject] = []
        own_rejects: dict[str, tuple[bytes | None, bytes | None]] = {}
        if not all(values):
            kept = [i for i, v in enumerate(values) if v]
            for i, value in enumerate(values):
                if not value:
                    rejects.append(Reject(origin=origins[i], reason="empty message (null or zero-length value)",
                                          payload=value or b""))
                    own_rejects[origins[i]] = (keys[i], value)
            values, origins, partitions, keys = ([column[i] for i in kept]
                                                  for column in (values, origins, partitions, keys))
        token = self.tracker.polled(len(messages), offsets, keys, own_rejects)
        return RawBatch(source=f"kafka:{topic}", payloads=values, origins=origins, token=token,
                        rejects=rejects, shards=partitions)

    @hookimpl
    def aegis_ingress_ack(self, batch: RawBatch, decisions: Decisions | None, rejects: Sequence[Reject]) -> None:
        """Produce the batch's decisions and dead letters; its offsets commit once the broker confirmed them."""
        if self.outputs is None:
            raise KafkaIngressError("kafka: aegis_ingress_ack before aegis_startup")
        self.outputs.publish(batch, decisions, rejects)
        self.tracker.acked(batch.token)

    @hookimpl
    def aegis_shutdown(self) -> None:
        """Deliver what acknowledged batches produced, commit their offsets, leave the group."""
        if self.producer is not None:
            flush = self.outputs.flush if self.outputs is not None else self.producer.flush
            left = flush(self.config.drain_timeout)
            if left:
                log.warning("kafka: %d decision/dead-letter message(s) not delivered at shutdown; their offsets "
                            "are not committed, so those records are screened again on restart", left)
        if self.member is not None:
            try:
                self.member.close()
            except KafkaException as exc:
                log.warning("kafka: leaving the group failed: %s", exc)
            self.member = None
        self.producer = None

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        c = self.config
        name = f"ingress (kafka {c.topic} @ {c.bootstrap_servers})"
        producer = self.producer or Producer(c.producer())
        try:
            counts = partition_counts(producer, [c.topic, *self._output_topics()], timeout=5.0)
        except KafkaException as exc:
            return [SelfTestResult(name, "brokers reachable", False, str(exc.args[0]))]
        results = [SelfTestResult(name, "brokers reachable", True, c.bootstrap_servers)]
        for topic, count in counts.items():
            ok = count is not None
            results.append(SelfTestResult(name, f"topic {topic}", ok,
                                          f"{count} partition(s)" if ok else "does not exist"))
        return results

    @staticmethod
    def _producer_error(err) -> None:
        if err.fatal():
            raise KafkaException(err)
        log.warning("kafka producer: %s", err)
