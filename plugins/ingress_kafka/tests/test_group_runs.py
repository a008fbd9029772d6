"""Whole ``aegis run`` processes against the broker: scale-out in one group, and kill -9 with restarts."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter

import orjson
import pytest

from aegis.testing.samples import transactions

pytestmark = pytest.mark.slow


def _wait(procs, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for p in procs:
        p.wait(max(0.1, deadline - time.monotonic()))


def _lines(path) -> int:
    """Complete lines in a file another process is appending to."""
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _bad_inputs(n: int, rng: random.Random) -> list[tuple[bytes | None, bytes | None]]:
    """Injected bad records: not JSON, a wrong IBAN checksum, a missing field, an empty value."""
    out: list[tuple[bytes | None, bytes | None]] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append((b"bad", b"{not json at all " + str(i).encode()))
        elif kind == 1:
            t = transactions(1, seed=10_000 + i)[0]
            t["debtor"]["account"] = "DE00370400440000000036"
            out.append((b"bad", orjson.dumps(t)))
        elif kind == 2:
            t = transactions(1, seed=20_000 + i)[0]
            del t["amount"]
            out.append((b"bad", orjson.dumps(t)))
        else:
            out.append((b"bad", None))
    return out


def test_two_processes_in_one_group_decide_every_transaction_once(kafka, runs, fast_group, tmp_path):
    topics = kafka.topics(partitions=4, prefix="scale")
    txs = transactions(20_000, seed=5, accounts=400)
    kafka.produce_transactions(topics["topic"], txs)
    source = {"bootstrap_servers": kafka.bootstrap, **topics, "group": f"{topics['topic']}-g",
              "idle_exit_seconds": 4.0, **fast_group}
    audits = [tmp_path / f"audit-{i}.jsonl" for i in range(2)]
    procs = [runs.start(runs.deployment(f"node{i}", source, audits[i], batch_size=1024), tmp_path / f"node{i}.log")
             for i in range(2)]
    _wait(procs, 90)
    logs = [(tmp_path / f"node{i}.log").read_text() for i in range(2)]
    assert [p.returncode for p in procs] == [0, 0], logs
    per_node = [runs.audited_uetrs(a) for a in audits]
    assert all(per_node), f"one process decided nothing: {[len(u) for u in per_node]}\n{logs}"
    everything = per_node[0] + per_node[1]
    assert Counter(everything) == Counter(t["uetr"] for t in txs)  # every transaction, exactly once
    decisions = kafka.read(topics["decisions_topic"], expected=len(txs))
    assert len(decisions) == len(txs)
    assert {d.key.decode() for d in decisions} == {t["uetr"] for t in txs}
    committed = kafka.committed(source["group"], topics["topic"])
    assert sum(committed.values()) == len(txs)


def _stop_at_random_moments(runs, config, audit, log, rng, stops: list[signal.Signals], total: int) -> None:
    """Start ``aegis run`` and stop it with each of ``stops`` in turn, each after a random number of
    newly audited records; then run it to the end and check it exits cleanly.

    Each stop comes at most a share of what is left of the ``total`` records, so every later run
    still finds records to be stopped in (a fast run overshoots its target by what it drains).
    """
    for i, sig in enumerate(stops):
        done = _lines(audit)
        share = max(1, (total - done) // (len(stops) - i + 1))
        target = done + rng.randint(min(500, share), min(6000, share))
        proc = runs.start(config, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if _lines(audit) >= target:
                break
            time.sleep(rng.uniform(0.02, 0.2))
        assert proc.poll() is None, f"run ended before it could be stopped:\n{log.read_text()[-3000:]}"
        proc.send_signal(sig)
        proc.wait(30)
    final = runs.start(config, log)
    _wait([final], 120)
    assert final.returncode == 0, log.read_text()[-3000:]


def _crash_setup(kafka, runs, fast_group, tmp_path, rng, state: bool):
    topics = kafka.topics(partitions=4, prefix="crash", state=state)
    txs = transactions(50_000, seed=9, accounts=2000)
    bad = _bad_inputs(40, rng)
    records = [(t["debtor"]["account"].encode(), orjson.dumps(t)) for t in txs] + bad
    rng.shuffle(records)
    kafka.produce(topics["topic"], records)
    # A restart after kill -9 waits for the dead member's session: keep it short here.
    source = {"bootstrap_servers": kafka.bootstrap, **topics, "group": f"{topics['topic']}-g",
              "idle_exit_seconds": 3.0, **fast_group, "session_timeout_ms": 2000, "heartbeat_interval_ms": 500}
    audit = tmp_path / "audit.jsonl"
    # A short queue: a graceful stop drains what is queued, and every stop must leave records behind.
    return topics, txs, bad, audit, runs.deployment("crashy", source, audit, batch_size=1024, queue_batches=2)


def test_kill_9_at_five_moments_then_every_transaction_audited_once(kafka, runs, fast_group, tmp_path):
    rng = random.Random(8)
    topics, txs, bad, audit, config = _crash_setup(kafka, runs, fast_group, tmp_path, rng, state=False)
    _stop_at_random_moments(runs, config, audit, tmp_path / "crashy.log", rng, [signal.SIGKILL] * 5, len(txs))
    _assert_exactly_once(kafka, runs, topics, txs, bad, audit)


def test_kill_9_with_state_checkpoints_between_graceful_stops(kafka, runs, fast_group, tmp_path):
    """With the state topic on, graceful stops checkpoint the scoring state at the committed offset;
    a kill -9 after more progress then makes the next run restore that older checkpoint and re-read
    from its offset. The audit trail must still hold every transaction exactly once."""
    rng = random.Random(21)
    topics, txs, bad, audit, config = _crash_setup(kafka, runs, fast_group, tmp_path, rng, state=True)
    log = tmp_path / "crashy.log"
    _stop_at_random_moments(runs, config, audit, log, rng,
                            [signal.SIGTERM, signal.SIGKILL, signal.SIGTERM, signal.SIGKILL, signal.SIGKILL], len(txs))
    text = log.read_text()
    assert text.count("checkpointed the scoring state") >= 2, text[-3000:]
    assert text.count("restored the scoring state") >= 3, text[-3000:]
    # the kill -9 after a checkpoint made the next run seek back to it: records re-read, not re-written
    assert "already stored (re-delivered), not written again" in text, text[-3000:]
    _assert_exactly_once(kafka, runs, topics, txs, bad, audit)


def _assert_exactly_once(kafka, runs, topics, txs, bad, audit) -> None:
    uetrs = runs.audited_uetrs(audit)
    counts = Counter(uetrs)
    assert set(counts) == {t["uetr"] for t in txs}, "a transaction was never audited"
    assert max(counts.values()) == 1, f"audited twice: {[u for u, c in counts.items() if c > 1][:5]}"
    decisions = kafka.read(topics["decisions_topic"], expected=len(txs))
    by_uetr = {d.key.decode() for d in decisions}
    assert by_uetr == {t["uetr"] for t in txs}  # at least one decision each; one after dedupe by UETR
    dead = kafka.read(topics["dead_letter_topic"], expected=len(bad))
    unique = {d.headers["aegis.origin"]: d for d in dead}  # re-delivery after a kill may repeat one
    assert len(unique) == len(bad)
    assert sorted((d.value or b"") for d in unique.values()) == sorted((v or b"") for _, v in bad)
