"""The kernel's ingress conformance suite, run against the Kafka source and a real broker."""

from __future__ import annotations

import pytest

from aegis.testing import IngressPluginTests


class TestKafkaIngressConformance(IngressPluginTests):
    plugin_name = "kafka"
    finite = True  # with idle_exit_seconds the source ends after the topic went quiet
    resumable = True  # committed offsets

    @pytest.fixture(autouse=True)
    def _broker(self, kafka, fast_group) -> None:
        self.kafka = kafka
        self.fast_group = fast_group

    def source_config(self, tmp_path, payloads: list[bytes]) -> dict:
        topics = self.kafka.topics(partitions=1, prefix="conformance")  # one partition: one order
        self.kafka.produce(topics["topic"], [(None, p) for p in payloads])
        return {"bootstrap_servers": self.kafka.bootstrap, **topics, "group": f"{topics['topic']}-group",
                "idle_exit_seconds": 1.5, "drain_timeout": 2.0, **self.fast_group}
