"""The Kafka source's configuration section.

``bootstrap_servers``, ``topic`` and ``group`` default to the environment variables
``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_TOPIC`` and ``KAFKA_CONSUMER_GROUP`` (the operator
guide's container settings) when the YAML leaves them out; a value in the YAML wins.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_TOPIC = "transactions.euro.v1"
DEFAULT_GROUP = "aegis-screening"
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Property = str | int | float | bool
#: librdkafka properties the plugin owns: overriding them would break commit-after-audit or rebalancing.
OWNED_CONSUMER_PROPERTIES = frozenset({
    "group.id", "enable.auto.commit", "enable.auto.offset.store", "partition.assignment.strategy",
    "group.protocol", "bootstrap.servers",
})
OWNED_PRODUCER_PROPERTIES = frozenset({"enable.idempotence", "acks", "bootstrap.servers"})


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


class SecurityConfig(BaseModel):
    """How to reach a secured cluster; passed to consumer and producer alike (librdkafka names in brackets)."""

    model_config = ConfigDict(extra="forbid")

    protocol: SecurityProtocol = Field("PLAINTEXT", description="security.protocol")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"] | None = Field(
        None, description="sasl.mechanism (needed for SASL_PLAINTEXT / SASL_SSL)")
    sasl_username: str | None = Field(None, description="sasl.username")
    sasl_password: str | None = Field(
        None, description='sasl.password; write {"$secret": "kafka_password"} so the secrets plugin resolves it')
    ssl_ca_location: str | None = Field(None, description="ssl.ca.location (PEM file of the cluster's CA)")
    ssl_certificate_location: str | None = Field(None, description="ssl.certificate.location (client certificate)")
    ssl_key_location: str | None = Field(None, description="ssl.key.location (client private key)")
    ssl_key_password: str | None = Field(None, description='ssl.key.password; use {"$secret": ...}')
    ssl_endpoint_identification: bool = Field(
        True, description="ssl.endpoint.identification.algorithm=https (verify the broker's host name)")

    @model_validator(mode="after")
    def _sasl_complete(self) -> SecurityConfig:
        if self.protocol.startswith("SASL") and self.sasl_mechanism is None:
            raise ValueError(f"protocol {self.protocol} needs sasl_mechanism (e.g. SCRAM-SHA-512)")
        if self.sasl_mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") and not (
                self.sasl_username and self.sasl_password):
            raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs sasl_username and sasl_password")
        return self

    def properties(self) -> dict[str, Property]:
        """The librdkafka properties for this section (only those that are set)."""
        props: dict[str, Property | None] = {
            "security.protocol": self.protocol, "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username, "sasl.password": self.sasl_password,
            "ssl.ca.location": self.ssl_ca_location, "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location, "ssl.key.password": self.ssl_key_password,
        }
        if self.protocol in ("SSL", "SASL_SSL"):
            props["ssl.endpoint.identification.algorithm"] = "https" if self.ssl_endpoint_identification else "none"
        return {k: v for k, v in props.items() if v is not None}


class KafkaIngressConfig(BaseModel):
    """Consume transactions from a topic as a member of a consumer group."""

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = Field(
        default_factory=lambda: _env("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
        description="host:port list of brokers (default: $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092)")
    topic: str = Field(default_factory=lambda: _env("KAFKA_TOPIC", DEFAULT_TOPIC),
                       description=f"topic of transactions (default: $KAFKA_TOPIC, else {DEFAULT_TOPIC})")
    group: str = Field(default_factory=lambda: _env("KAFKA_CONSUMER_GROUP", DEFAULT_GROUP),
                       description=f"consumer group (default: $KAFKA_CONSUMER_GROUP, else {DEFAULT_GROUP}); "
                                   "processes in one group split the partitions")
    decisions_topic: str | None = Field(
        "transactions.euro.v1.decisions",
        description="topic the decision records are produced to, key = UETR (null: produce none)")
    dead_letter_topic: str | None = Field(
        "transactions.euro.v1.dead-letter",
        description="topic rejected records are produced to, original bytes and key untouched, reason in "
                    "headers (null: produce none; the audit sinks' dead letters still hold them)")
    state_topic: str | None = Field(
        None, description="compacted topic (one partition) where the scoring plugins' per-partition state is "
                          "checkpointed on revoke and restored on assign, conventionally <topic>.aegis-state "
                          "(null: state stays per process and a rebalance starts the moved accounts afresh)")
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="where a group without a committed offset starts")
    session_timeout_ms: int = Field(
        45_000, ge=1000, description="session.timeout.ms: how long a silent member keeps its partitions")
    heartbeat_interval_ms: int = Field(3000, ge=100, description="heartbeat.interval.ms (below a third of "
                                                                 "session_timeout_ms)")
    max_poll_interval_ms: int = Field(
        300_000, ge=1000, description="max.poll.interval.ms: longest pause between polls before the member "
                                      "is considered stuck")
    max_in_flight: int = Field(
        65_536, ge=1, description="records polled but not yet acknowledged above which the partitions are "
                                  "paused (backpressure; nothing is dropped)")
    resume_at: float = Field(0.5, gt=0, lt=1, description="fraction of max_in_flight below which paused "
                                                           "partitions resume")
    poll_timeout: float = Field(0.05, gt=0, le=0.1, description="seconds one poll waits for records")
    drain_timeout: float = Field(
        30.0, gt=0, description="seconds a revoke or shutdown waits for polled batches to be acknowledged "
                                "and their decisions delivered before it commits what is done")
    commit_interval: float = Field(
        1.0, gt=0, description="seconds an acknowledged batch waits for the producer's queue to run empty "
                               "(which confirms its decisions and dead letters) before the next batch first "
                               "flushes the producer, for at most this long: bounds the commit lag under "
                               "continuous production")
    idle_exit_seconds: float | None = Field(
        None, gt=0, description="end the source (final batch) after this many seconds without a record or "
                                "rebalance, counted from the first assignment: for replays, benchmarks and "
                                "tests; null runs until stopped")
    linger_ms: float = Field(5.0, ge=0, description="producer linger.ms (batching of decisions)")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "lz4", description="producer compression.type")
    security: SecurityConfig = Field(default_factory=SecurityConfig,
                                     description="TLS and SASL settings for consumer and producer")
    consumer_properties: dict[str, Property] = Field(
        default_factory=dict, description="further librdkafka consumer properties, passed through "
                                          "(group.id, auto commit and the assignment strategy are the plugin's)")
    producer_properties: dict[str, Property] = Field(
        default_factory=dict, description="further librdkafka producer properties, passed through "
                                          "(idempotence and acks=all are the plugin's)")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaIngressConfig:
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError(f"heartbeat_interval_ms ({self.heartbeat_interval_ms}) must be at most a third of "
                             f"session_timeout_ms ({self.session_timeout_ms})")
        for section, props, owned in (("consumer_properties", self.consumer_properties, OWNED_CONSUMER_PROPERTIES),
                                      ("producer_properties", self.producer_properties, OWNED_PRODUCER_PROPERTIES)):
            clash = sorted(set(props) & owned)
            if clash:
                raise ValueError(f"{section}: {', '.join(clash)} cannot be overridden (the plugin sets them so "
                                 "offsets are committed only after durable audit)")
        if self.topic in (self.decisions_topic, self.dead_letter_topic, self.state_topic):
            raise ValueError(f"decisions_topic, dead_letter_topic and state_topic must differ from topic "
                             f"{self.topic!r}")
        return self

    def consumer(self) -> dict[str, Property]:
        """librdkafka consumer properties."""
        return {
            **self.security.properties(),
            "bootstrap.servers": self.bootstrap_servers,
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": self.heartbeat_interval_ms,
            "max.poll.interval.ms": self.max_poll_interval_ms,
            "auto.offset.reset": self.auto_offset_reset,
            "fetch.min.bytes": 1,
            # Large fetches: fewer fetch requests per record (measured: the bare consume loop of
            # bench/kafka.py against tansu, ~95k msg/s at librdkafka's 1 MiB default, ~230k with these).
            "max.partition.fetch.bytes": 10 * 1024 * 1024,
            "queued.min.messages": 200_000,
            "queued.max.messages.kbytes": 65536,
            **self.consumer_properties,
            "group.id": self.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            # Eager rebalancing: a revoke takes every partition, so one drain-and-commit covers it.
            "partition.assignment.strategy": "roundrobin",
        }

    def client(self) -> dict[str, Property]:
        """Properties to reach the cluster, for helper clients (the state-topic reader)."""
        return {**self.security.properties(), "bootstrap.servers": self.bootstrap_servers}

    def producer(self) -> dict[str, Property]:
        """librdkafka producer properties (idempotent: retries never duplicate or reorder)."""
        return {
            **self.security.properties(),
            "bootstrap.servers": self.bootstrap_servers,
            "linger.ms": self.linger_ms,
            "compression.type": self.compression,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 1_000_000,
            # Only failed deliveries call Python; deliveries are confirmed by the queue running empty.
            "delivery.report.only.error": True,
            **self.producer_properties,
            "enable.idempotence": True,
            "acks": "all",
        }
