"""The source against the broker in-process: outputs, commit-after-durability, backpressure, config."""

from __future__ import annotations

import threading
import time

import orjson
import pytest
from aegis_ingress_kafka.config import KafkaIngressConfig
from pydantic import ValidationError

from aegis.decode import decode
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def _config(kafka, topics: dict, fast_group: dict, **extra) -> dict:
    return {"bootstrap_servers": kafka.bootstrap, **topics, "group": f"{topics['topic']}-g",
            "drain_timeout": 2.0, **fast_group, **extra}


def _poll(h: PluginHarness, max_records: int = 500, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = h.call("aegis_ingress_poll", max_records=max_records)
        if raw is not None and (raw.payloads or raw.rejects):
            return raw
    raise AssertionError(f"no records within {timeout} s")


def test_decisions_keyed_by_uetr_dead_letters_untouched_and_commit_only_after_ack(kafka, fast_group, tmp_path):
    topics = kafka.topics(partitions=1, prefix="io")
    good = transactions(30, seed=3)
    not_json = b'{"uetr": "broken'
    bad_iban = dict(transactions(1, seed=4)[0])
    bad_iban["debtor"] = {**bad_iban["debtor"], "account": "DE00370400440000000036"}
    records = [(g["debtor"]["account"].encode(), orjson.dumps(g)) for g in good[:10]]
    records += [(b"key-not-json", not_json), (b"key-bad-iban", orjson.dumps(bad_iban)), (b"key-empty", None)]
    records += [(g["debtor"]["account"].encode(), orjson.dumps(g)) for g in good[10:]]
    kafka.produce(topics["topic"], records)
    config = _config(kafka, topics, fast_group)
    with PluginHarness("ingress", "kafka", config, tmp_path / "state") as h:
        raw = _poll(h, max_records=1000)
        while len(raw.payloads) + len(raw.rejects) < len(records):  # the first fetch may be partial
            more = _poll(h, max_records=1000)
            h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
            raw = more
        batch, rejects = decode(raw, h.accounts)
        assert batch is not None
        for _ in range(10):  # polling commits whatever is done: nothing is, the batch is not acknowledged
            h.call("aegis_ingress_poll", max_records=10)
        assert all(o < 0 for o in kafka.committed(config["group"], topics["topic"]).values())
        decisions = h.decisions(batch)
        h.call("aegis_ingress_ack", batch=raw, decisions=decisions, rejects=rejects)
        deadline = time.monotonic() + 10
        while kafka.committed(config["group"], topics["topic"]) != {0: len(records)}:
            assert time.monotonic() < deadline, "offsets not committed after acknowledgement and delivery"
            h.call("aegis_ingress_poll", max_records=10)
    out = kafka.read(topics["decisions_topic"], expected=len(good))
    assert [r.key.decode() for r in out] == [g["uetr"] for g in good]
    assert [r.value for r in out] == decisions.lines()
    dead = sorted(kafka.read(topics["dead_letter_topic"], expected=3),
                  key=lambda d: int(d.headers["aegis.source.offset"]))
    assert [(d.key, d.value) for d in dead] == [(b"key-not-json", not_json),
                                                (b"key-bad-iban", orjson.dumps(bad_iban)), (b"key-empty", None)]
    assert [d.headers["aegis.source.offset"] for d in dead] == [b"10", b"11", b"12"]
    assert all(d.headers["aegis.source.topic"] == topics["topic"].encode() for d in dead)
    assert b"IBAN" in dead[1].headers["aegis.reason"]
    assert b"empty message" in dead[2].headers["aegis.reason"]


def test_slow_acknowledgement_pauses_partitions_and_drops_nothing(kafka, fast_group, tmp_path):
    """The kernel's main thread acknowledges slowly (a slow audit sink): the consumer pauses, then resumes."""
    topics = kafka.topics(partitions=2, prefix="pressure")
    txs = transactions(3000, seed=6)
    kafka.produce_transactions(topics["topic"], txs)
    config = _config(kafka, topics, fast_group, max_in_flight=400, idle_exit_seconds=2.0)
    acks: list = []
    lock = threading.Condition()
    done = threading.Event()
    max_in_flight = 0

    def slow_audit(h: PluginHarness) -> None:  # acknowledges in poll order, 20 ms per batch
        while not done.is_set() or acks:
            with lock:
                lock.wait_for(lambda: acks or done.is_set(), timeout=0.1)
                raw = acks.pop(0) if acks else None
            if raw is not None:
                time.sleep(0.02)
                h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])

    delivered: list[str] = []
    with PluginHarness("ingress", "kafka", config, tmp_path / "state") as h:
        acker = threading.Thread(target=slow_audit, args=(h,))
        acker.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            raw = h.call("aegis_ingress_poll", max_records=100)
            max_in_flight = max(max_in_flight, h.plugin.tracker.in_flight)
            if raw is None:
                continue
            delivered += [orjson.loads(p)["uetr"] for p in raw.payloads]
            with lock:
                acks.append(raw)
                lock.notify()
            if raw.final:
                break
        done.set()
        acker.join(10)
        pauses = h.plugin.member.pauses
    assert pauses >= 1
    assert max_in_flight <= 400 + 100  # paused at the bound; one fetch may land on top of it
    assert sorted(delivered) == sorted(t["uetr"] for t in txs)  # nothing dropped, nothing twice
    assert sum(kafka.committed(config["group"], topics["topic"]).values()) == len(txs)


def test_missing_topic_fails_startup_with_its_name(kafka, fast_group, tmp_path):
    topics = kafka.topics(partitions=1, prefix="missing")
    config = _config(kafka, {**topics, "decisions_topic": "no-such-decisions-topic"}, fast_group)
    with pytest.raises(Exception, match="no-such-decisions-topic"), \
            PluginHarness("ingress", "kafka", config, tmp_path / "state"):
        pass


def test_environment_supplies_servers_topic_and_group(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("KAFKA_TOPIC", "payments.v2")
    monkeypatch.setenv("KAFKA_CONSUMER_GROUP", "aegis-eu")
    c = KafkaIngressConfig()
    assert (c.bootstrap_servers, c.topic, c.group) == ("kafka-1:9092,kafka-2:9092", "payments.v2", "aegis-eu")
    assert KafkaIngressConfig(topic="explicit").topic == "explicit"
    monkeypatch.delenv("KAFKA_TOPIC")
    assert KafkaIngressConfig().topic == "transactions.euro.v1"


def test_security_settings_reach_consumer_and_producer():
    c = KafkaIngressConfig(security={"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                     "sasl_username": "aegis", "sasl_password": "s3cret",
                                     "ssl_ca_location": "/etc/kafka/ca.pem"},
                           consumer_properties={"client.rack": "eu-west-1a"})
    for props in (c.consumer(), c.producer()):
        assert props["security.protocol"] == "SASL_SSL"
        assert props["sasl.mechanism"] == "SCRAM-SHA-512"
        assert props["sasl.password"] == "s3cret"
        assert props["ssl.ca.location"] == "/etc/kafka/ca.pem"
    assert c.consumer()["client.rack"] == "eu-west-1a"
    assert c.consumer()["enable.auto.commit"] is False
    assert c.producer()["enable.idempotence"] is True


@pytest.mark.parametrize(("section", "message"), [
    ({"consumer_properties": {"enable.auto.commit": True}}, "enable.auto.commit cannot be overridden"),
    ({"security": {"protocol": "SASL_SSL"}}, "needs sasl_mechanism"),
    ({"security": {"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN"}}, "needs sasl_username"),
    ({"topic": "x", "decisions_topic": "x"}, "must differ"),
])
def test_unsafe_or_incomplete_settings_are_refused(section, message):
    with pytest.raises(ValidationError, match=message):
        KafkaIngressConfig(**section)
