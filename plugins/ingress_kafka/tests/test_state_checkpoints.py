"""Partition-local scoring state: checkpoints in the state topic, and a rebalance that moves them."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import orjson
import pytest
from aegis_ingress_kafka.checkpoints import StateCheckpoints
from confluent_kafka import Producer

from aegis.testing import samples


def test_latest_checkpoint_per_partition_is_read_back(kafka):
    topics = kafka.topics(partitions=2, prefix="ckpt", state=True)
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "enable.idempotence": True})
    store = StateCheckpoints(producer, {"bootstrap.servers": kafka.bootstrap}, topics["state_topic"], "g",
                             topics["topic"])
    other_group = StateCheckpoints(producer, {"bootstrap.servers": kafka.bootstrap}, topics["state_topic"], "h",
                                   topics["topic"])
    assert store.read([0, 1], timeout=10) == {}
    store.write({0: b"first", 1: b"one"}, {0: 10, 1: 3}, timeout=10)
    store.write({0: b"second"}, {0: 25}, timeout=10)
    other_group.write({0: b"not ours"}, {0: 99}, timeout=10)
    assert store.read([0, 1], timeout=10) == {0: (25, b"second"), 1: (3, b"one")}
    assert store.read([1], timeout=10) == {1: (3, b"one")}


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_velocity_state_moves_with_its_partition_to_the_new_owner(kafka, runs, fast_group, tmp_path):
    """40 accounts pay 7 times in an hour while one process owns both partitions; a second process
    joins and takes a partition; then each account pays 3 more times in the same hour. Under the
    default 1h limit of 10 (ramp from 7) payments 8-10 score VELOCITY > 0 only with the history,
    which the new owner has only through the checkpoint."""
    topics = kafka.topics(partitions=2, prefix="moved", state=True)
    rng = random.Random(3)
    accounts = range(100, 140)

    def payments(minutes: range) -> list[dict]:
        return [samples.transaction(rng, samples.EPOCH + timedelta(minutes=m), a, 900 + m) for m in minutes
                for a in accounts]

    history, later = payments(range(7)), payments(range(7, 10))
    source = {"bootstrap_servers": kafka.bootstrap, **topics, "group": f"{topics['topic']}-g",
              "idle_exit_seconds": 6.0, "drain_timeout": 10.0, **fast_group}
    audits = [tmp_path / f"audit-{i}.jsonl" for i in range(2)]
    logs = [tmp_path / f"node{i}.log" for i in range(2)]
    configs = [runs.deployment(f"node{i}", source, audits[i], batch_size=64) for i in range(2)]
    kafka.produce_transactions(topics["topic"], history)
    first = runs.start(configs[0], logs[0])
    _wait_for(lambda: len(runs.audited_uetrs(audits[0])) >= len(history), 30,
              f"the first process did not decide the history:\n{logs[0].read_text()[-3000:]}")
    second = runs.start(configs[1], logs[1])
    # Eager rebalance: the first process revokes (checkpoints) and both are assigned one partition.
    _wait_for(lambda: logs[0].read_text().count("assigned ") >= 2 and "assigned " in logs[1].read_text(), 30,
              f"no rebalance:\n{logs[0].read_text()[-3000:]}\n{logs[1].read_text()[-3000:]}")
    kafka.produce_transactions(topics["topic"], later)
    for p in (first, second):
        p.wait(60)
    texts = [log.read_text() for log in logs]
    assert [first.returncode, second.returncode] == [0, 0], texts
    assert "checkpointed the scoring state" in texts[0], texts[0][-3000:]
    records = {}
    for i, audit in enumerate(audits):
        for line in audit.read_bytes().splitlines():
            rec = orjson.loads(line)
            records[rec["uetr"]] = (i, rec["factor_scores"]["VELOCITY"])
    assert len(records) == len(history) + len(later)  # each once
    moved = [records[t["uetr"]] for t in later if records[t["uetr"]][0] == 1]
    assert moved, "the second process decided none of the later payments (no partition moved)"
    assert all(v > 0 for _, v in moved), f"{sum(v == 0 for _, v in moved)} of {len(moved)} later payments " \
                                         "scored without their history on the new owner"
    assert all(records[t["uetr"]][1] > 0 for t in later)
    assert not any(records[t["uetr"]][1] > 0 for t in history)
