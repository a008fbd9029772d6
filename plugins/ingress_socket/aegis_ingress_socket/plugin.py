"""The ``socket`` ingress plugin: the sidecar API on ZeroMQ (port 5555) and, optionally, gRPC.

Requests come in on the transports' own threads, wait in the intake until the kernel polls,
and are answered from the acknowledgement hook, i.e. only after their audit records (or dead
letters) are durable.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

import orjson
import zmq
from zmq.utils.z85 import decode as z85_decode

from aegis.client.wire import PING, PONG
from aegis.context import Context
from aegis.decide import Decisions
from aegis.errors import SecurityViolation
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import RawBatch, Reject
from aegis_ingress_socket.answers import answer
from aegis_ingress_socket.config import SocketIngressConfig, is_loopback
from aegis_ingress_socket.grpc_server import GrpcServer
from aegis_ingress_socket.inflight import Window
from aegis_ingress_socket.intake import Intake, deliver
from aegis_ingress_socket.keys import check_public_key, check_secret_key, new_key_pair, public_key_of, read_key_file
from aegis_ingress_socket.replies import ReplayCache, error_result
from aegis_ingress_socket.zap import Gatekeeper
from aegis_ingress_socket.zmq_server import ZmqServer, health_figures

log = logging.getLogger("aegis.ingress.socket")

PLAINTEXT_REFUSAL = (
    "ingress socket: listening on {host} without CURVE would let anyone who reaches the port screen payments "
    "and read decisions, which security mode 'strict' forbids. Configure `curve` (server secret key as "
    '{{"$secret": name}} plus the allowed client keys) or listen on 127.0.0.1 only')


class SocketIngress:
    """An endless source: batches whatever requests are waiting, replies after audit."""

    Config = SocketIngressConfig

    def __init__(self, config: SocketIngressConfig):
        self.config = config
        self.window = Window(config.max_in_flight, config.stall_after_s)
        self.replay = ReplayCache(config.replay_cache)
        self.intake: Intake | None = None
        self.zmq: ZmqServer | None = None
        self.grpc: GrpcServer | None = None
        self.gatekeeper: Gatekeeper | None = None
        self.server_public_key: str | None = None
        self._keys_file_mtime: float | None = None
        self._started = time.monotonic()

    # -- lifecycle -----------------------------------------------------------------

    def _client_keys(self) -> list[str]:
        curve = self.config.curve
        assert curve is not None
        keys = [check_public_key(k, f"curve.client_keys[{i}]") for i, k in enumerate(curve.client_keys)]
        if curve.client_keys_file is not None:
            self._keys_file_mtime = os.stat(curve.client_keys_file).st_mtime
            keys += read_key_file(curve.client_keys_file)
        return list(dict.fromkeys(keys))

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        c = self.config
        if context.strict and c.curve is None and not is_loopback(c.host):
            raise SecurityViolation(PLAINTEXT_REFUSAL.format(host=c.host))
        host = context.host
        lookup = host.lookup if host is not None and host.family("audit") else None
        self.intake = Intake(f"socket:{c.port}", self.window, self.replay, lookup)
        secret = None
        if c.curve is not None:
            secret = c.curve.secret_key.get_secret_value().strip()
            check_secret_key(secret, "curve.secret_key")
            self.server_public_key = public_key_of(secret)
            keys = self._client_keys()
            self.gatekeeper = Gatekeeper(keys)
            if not keys:
                log.warning("CURVE is on but no client key is allowed: every client will be refused")
        self._started = time.monotonic()
        self.zmq = ZmqServer(c, self.intake, self.window, self._health, self.gatekeeper, secret)
        self.zmq.start()
        log.info("screening requests on %s (%s)", self.zmq.endpoint,
                 f"CURVE, server key {self.server_public_key}, {len(self.gatekeeper.allowed)} client key(s)"
                 if self.gatekeeper is not None else "plaintext, no client authentication")
        if c.grpc is not None:
            self.grpc = GrpcServer(c.grpc, c.host, self.intake, self.window, c.max_records_per_request)
            try:
                self.grpc.start()
            except BaseException:
                self.zmq.stop()
                raise
            log.info("gRPC screening service on %s:%d", self.grpc.host, self.grpc.port)

    @hookimpl
    def aegis_shutdown(self) -> None:
        """Refuse what was never handed to the kernel, send every reply given so far, close."""
        if self.intake is not None:
            unpolled = self.intake.drain()
            for pending in unpolled:
                pending.refuse(error_result("busy", reason="server shutting down", retry_after_ms=100))
            if unpolled:
                log.warning("shutting down: %d request(s) not yet screened answered BUSY", len(unpolled))
                deliver(unpolled)
        if self.grpc is not None:
            self.grpc.stop()
            self.grpc = None
        if self.zmq is not None:
            self.zmq.stop()
            self.zmq = None

    # -- ingress -------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """Where the ZeroMQ socket listens (with the real port when ``port: 0``)."""
        return self.zmq.endpoint if self.zmq is not None else ""

    def _health(self) -> dict:
        assert self.intake is not None
        figures = health_figures(self.window, self.intake, self._started, self.server_public_key)
        if self.zmq is not None and self.zmq.failure is not None:
            figures["status"] = "NOT_SERVING"
        return figures

    @hookimpl
    def aegis_ingress_poll(self, max_records: int) -> RawBatch | None:
        assert self.intake is not None, "aegis_ingress_poll before aegis_startup"
        if self.zmq is not None and self.zmq.failure is not None:
            raise RuntimeError(f"ingress socket: the ZeroMQ I/O thread failed: {self.zmq.failure!r}")
        return self.intake.next_batch(max_records, self.config.poll_wait_ms / 1000)

    @hookimpl
    def aegis_ingress_poll_inline(self, max_records: int) -> RawBatch | None:
        """Serve the sockets on the kernel's main thread: read, then batch; replies leave from the ack."""
        assert self.intake is not None and self.zmq is not None, "aegis_ingress_poll_inline before aegis_startup"
        if not self.zmq.served_here:
            self.zmq.take_over(alone=self.grpc is None)
            if self.grpc is not None:
                self.intake.waker = self.zmq.wake  # gRPC requests wake the poller
        self.zmq.serve(0)
        if not self.intake.waiting:  # at least 1 ms: the kernel polls again at once (a request ends the wait)
            self.zmq.serve(max(self.config.poll_wait_ms, 1.0) / 1000)
        return self.intake.next_batch(max_records, 0)

    @hookimpl
    def aegis_ingress_ack(self, batch: RawBatch, decisions: Decisions | None, rejects: Sequence[Reject]) -> None:
        deliver(answer(batch, decisions, rejects, self.replay))

    # -- operations ------------------------------------------------------------------

    @hookimpl
    def aegis_reload(self) -> ReloadReport | None:
        """Re-read ``curve.client_keys_file`` when it changed; a bad file leaves the old allow-list active."""
        curve = self.config.curve
        if curve is None or curve.client_keys_file is None or self.gatekeeper is None:
            return None
        path = curve.client_keys_file
        old = f"{len(self.gatekeeper.allowed)} key(s)"
        try:
            if os.stat(path).st_mtime == self._keys_file_mtime:
                return None
            keys = self._client_keys()
        except (OSError, ValueError) as exc:
            self._keys_file_mtime = None  # try again next time
            return ReloadReport(plugin="ingress socket", artefact=str(path), ok=False, old_version=old,
                                error=str(exc))
        self.gatekeeper.allow(keys)
        return ReloadReport(plugin="ingress socket", artefact=str(path), ok=True, old_version=old,
                            new_version=f"{len(self.gatekeeper.allowed)} key(s)", summary="client allow-list")

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        name = f"ingress (socket {self.config.endpoint})"
        if self.zmq is None:
            return [SelfTestResult(name, "listening", False, "not started")]
        results = [SelfTestResult(name, "listening", True, self.zmq.endpoint)]
        results.append(self._ping_self(name))
        return results

    def _answered(self, sock: zmq.Socket, timeout_s: float) -> bool:
        """Whether ``sock`` gets its reply in time; serves the server meanwhile if this thread owns it."""
        assert self.zmq is not None
        if not self.zmq.served_here:
            return bool(sock.poll(round(timeout_s * 1000)))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.zmq.serve(0.01)
            if sock.poll(0):
                return True
        return False

    def _ping_self(self, name: str) -> SelfTestResult:
        """Connect like a client (with a throw-away CURVE key when CURVE is on) and PING."""
        check = "health ping answered"
        ctx = zmq.Context()
        sock = ctx.socket(zmq.REQ)
        sock.linger = 0
        ephemeral = None
        try:
            if self.gatekeeper is not None and self.server_public_key is not None:
                public, secret = new_key_pair()
                ephemeral = z85_decode(public.encode())
                self.gatekeeper.ephemeral.add(ephemeral)
                sock.curve_serverkey = self.server_public_key.encode()
                sock.curve_publickey, sock.curve_secretkey = public.encode(), secret.encode()
            sock.connect(self.zmq.endpoint.replace("0.0.0.0", "127.0.0.1"))  # type: ignore[union-attr]
            sock.send(PING)
            if not self._answered(sock, 5.0):
                return SelfTestResult(name, check, False, "no answer within 5 s")
            reply = sock.recv_multipart()
            if reply[0] != PONG:
                return SelfTestResult(name, check, False, f"unexpected reply {reply[:2]!r}")
            health = orjson.loads(reply[1])
            return SelfTestResult(name, check, health["status"] == "SERVING", orjson.dumps(health).decode())
        finally:
            if ephemeral is not None and self.gatekeeper is not None:
                self.gatekeeper.ephemeral.discard(ephemeral)
            sock.close()
            ctx.term()
