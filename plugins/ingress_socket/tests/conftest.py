"""A real deployment in-process (socket ingress → rules → JSONL audit, env secrets in permissive
mode) on free ports bound to 127.0.0.1, with the pipeline running in a thread.

The ``start`` and ``sidecar`` fixtures run every test twice: with the sockets served by the
pipeline's own thread between batches (inline intake, the default) and by the plugin's I/O
thread feeding an intake thread (``pipeline.inline_intake: false``)."""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import zmq

from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline, RunSummary

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("AEGIS_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
FATF = DATA / "country_risk" / "fatf_lists.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deployment(tmp_path: Path, socket_config: dict[str, Any], batch_size: int = 256,
               audit: list[dict] | None = None, metrics: list[dict] | None = None,
               inline: bool = True) -> dict[str, Any]:
    audit_path = tmp_path / "audit" / "audit.jsonl"
    return {
        "deployment": "sidecar-test", "security_mode": "permissive", "log_level": "WARNING",
        "secrets": {"plugin": "env", "config": {"key_dir": str(tmp_path / "keys")}},
        "ingress": [{"plugin": "socket", "config": socket_config}],
        "scoring": [{"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}}}],
        "audit": audit or [{"plugin": "jsonl", "config": {"path": str(audit_path), "fsync": "batch"}}],
        "metrics": metrics or [],
        "pipeline": {"batch_size": batch_size, "state_dir": str(tmp_path / "state"), "inline_intake": inline},
    }


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


@dataclass
class Sidecar:
    """A running deployment: where to connect and what it recorded."""

    endpoint: str
    plugin: Any
    pipeline: Pipeline
    tmp_path: Path
    summaries: list[RunSummary] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def records(self) -> list[dict]:
        return read_jsonl(self.tmp_path / "audit" / "audit.jsonl")

    @property
    def dead_letters(self) -> list[dict]:
        return read_jsonl(self.tmp_path / "audit" / "audit.dead_letter.jsonl")

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.plugin.grpc.port}"


@contextmanager
def running(tmp_path: Path, socket_config: dict[str, Any] | None = None, batch_size: int = 256,
            audit: list[dict] | None = None, metrics: list[dict] | None = None,
            inline: bool = True) -> Iterator[Sidecar]:
    """Start the deployment, run the pipeline in a thread, stop and join it on exit."""
    socket_config = {"host": "127.0.0.1", "port": free_port(), **(socket_config or {})}
    config = parse_outline(deployment(tmp_path, socket_config, batch_size, audit, metrics, inline), environ={})
    with started(config) as host:
        pipeline = Pipeline(host, config)
        plugin = host.family("ingress")[0].instance
        sidecar = Sidecar(plugin.endpoint, plugin, pipeline, tmp_path)

        def run() -> None:
            try:
                sidecar.summaries.append(pipeline.run())
            except BaseException as exc:
                sidecar.errors.append(exc)

        thread = threading.Thread(target=run, name="pipeline", daemon=True)
        thread.start()
        try:
            yield sidecar
        finally:
            pipeline.stop()
            thread.join(timeout=20)
    assert not thread.is_alive(), "the pipeline did not stop"


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_port()


@pytest.fixture
def make_deployment() -> Callable[..., dict[str, Any]]:
    """The deployment mapping :func:`running` uses (to write it as YAML for ``aegis run``)."""
    return deployment


@pytest.fixture(params=[True, False], ids=["inline", "intake-thread"])
def inline(request) -> bool:
    """Whether the pipeline serves the sockets itself (see the module docstring)."""
    return request.param


@pytest.fixture
def start(inline) -> Callable[..., AbstractContextManager[Sidecar]]:
    """``with start(tmp_path, {socket config}) as sidecar:`` runs a deployment (see :func:`running`)."""
    return functools.partial(running, inline=inline)


@pytest.fixture
def sidecar(tmp_path, inline) -> Iterator[Sidecar]:
    with running(tmp_path, inline=inline) as s:
        yield s


class Sockets:
    """Client sockets for a test, all closed at the end."""

    def __init__(self) -> None:
        self.context = zmq.Context()

    def dealer(self, endpoint: str, curve: dict[str, bytes] | None = None) -> zmq.Socket:
        return self._socket(zmq.DEALER, endpoint, curve)

    def req(self, endpoint: str, curve: dict[str, bytes] | None = None) -> zmq.Socket:
        return self._socket(zmq.REQ, endpoint, curve)

    def _socket(self, kind: int, endpoint: str, curve: dict[str, bytes] | None) -> zmq.Socket:
        sock = self.context.socket(kind)
        sock.linger = 0
        for option, value in (curve or {}).items():
            setattr(sock, option, value)
        sock.connect(endpoint)
        return sock

    @staticmethod
    def receive(sock: zmq.Socket, timeout_ms: int = 5000) -> list[bytes]:
        assert sock.poll(timeout_ms), f"no reply within {timeout_ms} ms"
        return sock.recv_multipart()


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    s = Sockets()
    yield s
    s.context.destroy(linger=0)
