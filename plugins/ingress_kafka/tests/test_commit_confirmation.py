"""Offsets wait until the batch's decisions left the producer: confirmation by the queue running empty,
a failed delivery stopping commits, and the forced drain under continuous production."""

from __future__ import annotations

import signal
import time

import pytest
from aegis_ingress_kafka.tracker import CommitTracker
from confluent_kafka import KafkaError, Message

from aegis.decode import decode
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions

# -- the tracker alone ---------------------------------------------------------


def _entry(tracker: CommitTracker, offset: int, messages: int):
    entry = tracker.polled(1, {("in", 0): offset}, [None])
    tracker.expect(entry, messages)
    return entry


def test_a_batch_that_produced_nothing_is_done_when_acknowledged():
    tracker = CommitTracker()
    entry = _entry(tracker, 5, messages=0)
    assert tracker.take_done() == {}
    tracker.acked(entry)
    assert entry.done and tracker.unconfirmed == 0
    assert tracker.take_done() == {("in", 0): 5}


def test_confirmation_covers_what_was_acknowledged_before_the_mark_and_commits_in_poll_order():
    tracker = CommitTracker()
    first, empty, late = _entry(tracker, 3, 2), _entry(tracker, 4, 0), _entry(tracker, 9, 1)
    tracker.acked(first)
    tracker.acked(empty)
    assert tracker.take_done() == {}  # the empty batch waits behind the unconfirmed one
    mark = tracker.mark()
    tracker.acked(late)  # acknowledged after the mark: its messages may still be queued
    assert tracker.confirm(mark) == 1
    assert tracker.take_done() == {("in", 0): 4}
    assert tracker.unconfirmed == 1 and tracker.pending == 1
    assert tracker.confirm(tracker.mark()) == 1
    assert tracker.take_done() == {("in", 0): 9}


def test_a_failed_delivery_refuses_every_later_confirmation():
    tracker = CommitTracker()
    delivered, failed = _entry(tracker, 3, 1), _entry(tracker, 7, 1)
    tracker.acked(delivered)
    tracker.confirm(tracker.mark())
    tracker.acked(failed)
    tracker.on_delivery(None, None)  # a success report (delivery.report.only.error overridden): ignored
    assert tracker.failure is None
    tracker.on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), Message(topic="out", partition=2, key=b"U-1"))
    assert tracker.failure is not None and "out [2] key b'U-1'" in tracker.failure
    assert "timed out" in tracker.failure
    assert tracker.confirm(tracker.mark()) == 0
    assert tracker.take_done() == {("in", 0): 3}  # confirmed before the failure: committable
    assert tracker.take_done() == {} and tracker.pending == 1


def test_waited_counts_from_the_oldest_unconfirmed_acknowledgement():
    tracker = CommitTracker()
    assert tracker.waited() == 0.0
    entry = _entry(tracker, 1, 1)
    tracker.acked(entry)
    time.sleep(0.05)
    assert tracker.waited() >= 0.05
    tracker.confirm(tracker.mark())
    assert tracker.waited() == 0.0


# -- against the broker ----------------------------------------------------------


def _config(kafka, topics: dict, fast_group: dict, **extra) -> dict:
    return {"bootstrap_servers": kafka.bootstrap, **topics, "group": f"{topics['topic']}-g",
            "drain_timeout": 2.0, **fast_group, **extra}


def _poll(h: PluginHarness, max_records: int, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = h.call("aegis_ingress_poll", max_records=max_records)
        if raw is not None and raw.payloads:
            return raw
    raise AssertionError(f"no records within {timeout} s")


def _ack(h: PluginHarness, raw) -> int:
    """Acknowledge ``raw`` with decisions for every record (as the kernel does); returns how many."""
    batch, rejects = decode(raw, h.accounts)
    assert batch is not None and not rejects
    h.call("aegis_ingress_ack", batch=raw, decisions=h.decisions(batch), rejects=rejects)
    return batch.n


def _wait_committed(h: PluginHarness, kafka, group: str, topic: str, offset: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while kafka.committed(group, topic) != {0: offset}:
        assert time.monotonic() < deadline, f"offset {offset} not committed: {kafka.committed(group, topic)}"
        h.call("aegis_ingress_poll", max_records=1)


def test_acknowledged_batch_commits_only_once_its_decisions_left_the_producer(kafka, fast_group, tmp_path):
    topics = kafka.topics(partitions=1, prefix="confirm")
    kafka.produce_transactions(topics["topic"], transactions(20, seed=31))
    # The decisions linger 3 s in the producer: the batch is acknowledged long before they can be delivered.
    config = _config(kafka, topics, fast_group, linger_ms=3000)
    with PluginHarness("ingress", "kafka", config, tmp_path / "state") as h:
        raw = _poll(h, max_records=100)
        end = raw.token.offsets[(topics["topic"], 0)]
        decided = _ack(h, raw)
        for _ in range(5):  # each poll serves reports, checks the producer and commits what is done
            h.call("aegis_ingress_poll", max_records=1)
        assert all(o < 0 for o in kafka.committed(config["group"], topics["topic"]).values())
        # still lingering after that check, so it really saw an acknowledged, undelivered batch
        assert len(h.plugin.producer) > 0 and not raw.token.done
        _wait_committed(h, kafka, config["group"], topics["topic"], end)  # linger over: delivered, confirmed
        assert raw.token.done
    assert len(kafka.read(topics["decisions_topic"], expected=decided)) == decided


def test_failed_delivery_stops_commits_from_that_batch_on(own_broker, fast_group, tmp_path):
    """The broker stops while a batch's decisions are on their way: they time out, so that batch and
    the next one (delivered after the broker came back) stay uncommitted; the batch before stays committed."""
    kafka = own_broker.kafka
    topics = kafka.topics(partitions=1, prefix="fail")
    kafka.produce_transactions(topics["topic"], transactions(60, seed=32))
    config = _config(kafka, topics, fast_group, producer_properties={"message.timeout.ms": 1000})
    group, topic = config["group"], topics["topic"]
    with PluginHarness("ingress", "kafka", config, tmp_path / "state") as h:
        first = _poll(h, max_records=10)
        _ack(h, first)
        _wait_committed(h, kafka, group, topic, first.token.offsets[(topic, 0)])
        second, third = _poll(h, max_records=10), _poll(h, max_records=10)
        own_broker.proc.send_signal(signal.SIGSTOP)
        try:
            _ack(h, second)  # produced into a broker that does not answer
            deadline = time.monotonic() + 15
            with pytest.raises(Exception, match="not delivered"):
                while time.monotonic() < deadline:
                    h.call("aegis_ingress_poll", max_records=10)
                    time.sleep(0.05)
        finally:
            own_broker.proc.send_signal(signal.SIGCONT)
        assert h.plugin.tracker.failure is not None
        try:
            _ack(h, third)  # the broker is back: these decisions may well be delivered
        except Exception as exc:  # the idempotent producer may refuse after the timeout
            print(f"producing the third batch failed: {exc}")
        h.plugin.outputs.flush(10)
        h.plugin.member.commit_done(asynchronous=False)
        assert not second.token.done and not third.token.done
    assert kafka.committed(group, topic) == {0: first.token.offsets[(topic, 0)]}


def test_forced_drain_lets_commits_progress_under_continuous_production(kafka, fast_group, tmp_path):
    """The decisions linger 60 s, so the producer never runs empty by itself while batches keep coming;
    only the flush after ``commit_interval`` confirms batches, and offsets are committed meanwhile."""
    topics = kafka.topics(partitions=1, prefix="forced")
    total = 400
    kafka.produce_transactions(topics["topic"], transactions(total, seed=33))
    config = _config(kafka, topics, fast_group, linger_ms=60_000, commit_interval=0.3)
    group, topic = config["group"], topics["topic"]
    with PluginHarness("ingress", "kafka", config, tmp_path / "state") as h:
        acked = 0
        deadline = time.monotonic() + 30
        while acked < total:
            assert time.monotonic() < deadline, f"only {acked} of {total} records polled"
            raw = _poll(h, max_records=20)
            acked += _ack(h, raw)
            assert len(h.plugin.producer) > 0  # never empty: the batch just produced lingers
            time.sleep(0.05)
        assert h.plugin.outputs.forced_drains >= 2
        committed = -1
        deadline = time.monotonic() + 10
        while committed <= 0:  # the commits of what the forced drains confirmed
            assert time.monotonic() < deadline, "nothing committed under continuous production"
            h.call("aegis_ingress_poll", max_records=20)
            committed = kafka.committed(group, topic)[0]
        assert committed < total  # the last batches still linger: unconfirmed, uncommitted
        assert len(h.plugin.producer) > 0
    assert kafka.committed(group, topic) == {0: total}  # shutdown flushed and committed the rest
    assert len(kafka.read(topics["decisions_topic"], expected=total)) == total
