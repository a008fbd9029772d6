"""The ZeroMQ side of the sidecar: one thread at a time owns the ROUTER socket.

ZeroMQ sockets are not thread-safe, so only the owner touches the ROUTER (the ZAP socket of
CURVE authentication has a thread of its own, :meth:`~aegis_ingress_socket.zap.Gatekeeper.serve`).
The owner reads requests, answers PING and BUSY, and submits the rest to the
:class:`~aegis_ingress_socket.intake.Intake`. From startup the owner is the server's own I/O
thread; replies come back to it through :meth:`ZmqServer.deliver`: a queue plus one byte on a
wake-up pipe that its ``zmq.Poller`` watches next to the socket. When the kernel polls the
plugin on its main thread (``aegis_ingress_poll_inline``), that thread takes the socket over
(:meth:`ZmqServer.take_over`, after which the I/O thread ends) and serves it between batches,
so a reply is sent by the thread that screened the request, without a hand-off. When no other
transport hands requests to that thread (``alone``), it waits for the next request in a blocking
receive on the socket itself, without a poller: the fewest calls per request.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

import orjson
import zmq

from aegis.client.wire import BUSY, PING, PONG, PROTOCOL_VERSION
from aegis_ingress_socket.config import SocketIngressConfig
from aegis_ingress_socket.inflight import Pending, Window
from aegis_ingress_socket.intake import Intake
from aegis_ingress_socket.protocol import Limits, ProtocolError, evidence, parse_request, split_envelope
from aegis_ingress_socket.replies import error_result
from aegis_ingress_socket.zap import DOMAIN, Gatekeeper

log = logging.getLogger("aegis.ingress.socket")

#: Messages read per wake-up before replies get their turn again.
READ_BURST = 256
_MORE = int(zmq.SNDMORE)


class ZmqServer:
    """Binds in :meth:`start` (so a taken port fails startup), then serves from its own thread."""

    def __init__(self, config: SocketIngressConfig, intake: Intake, window: Window,
                 health: Callable[[], dict], gatekeeper: Gatekeeper | None = None, secret_key: str | None = None):
        self.config = config
        self.intake = intake
        self.window = window
        self.health = health
        self.gatekeeper = gatekeeper
        self.limits = Limits(max_records=config.max_records_per_request, max_frame_bytes=config.max_frame_bytes)
        self.context = zmq.Context()
        self._secret_key = secret_key
        self._outbox: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stopping = threading.Event()
        self._releasing = threading.Event()  # take_over(): the I/O thread hands the sockets over and ends
        self._owner: int | None = None  # the thread serving the sockets after take_over()
        self._poller: zmq.Poller | None = None  # after take_over(): None when the owner serves the socket alone
        self._receive_timeout = -1  # the ROUTER's RCVTIMEO (ms) as last set, serving alone
        self._thread: threading.Thread | None = None
        self._zap_thread: threading.Thread | None = None
        self._router: zmq.Socket | None = None
        self._zap: zmq.Socket | None = None
        self._peers: dict[bytes, str] = {}
        self._sequence = 0
        self.endpoint = ""
        self.failure: BaseException | None = None

    # -- lifecycle (kernel thread) -------------------------------------------

    def start(self) -> None:
        if self.gatekeeper is not None:
            self._zap = self.gatekeeper.bind(self.context)
            self._zap_thread = threading.Thread(target=self.gatekeeper.serve, args=(self._zap, self._stopping),
                                                name="aegis-zmq-zap", daemon=True)
            self._zap_thread.start()
        router = self.context.socket(zmq.ROUTER)
        router.linger = 1000
        router.maxmsgsize = self.config.max_message_bytes
        router.rcvhwm = router.sndhwm = max(1000, self.config.max_in_flight)
        if self._secret_key is not None:
            router.curve_server = True
            router.curve_secretkey = self._secret_key.encode()
            router.zap_domain = DOMAIN
        endpoint = self.config.endpoint
        try:
            router.bind(endpoint.rsplit(":", 1)[0] + ":*" if self.config.port == 0 else endpoint)
        except zmq.ZMQError as exc:
            router.close(0)
            self.close()
            raise OSError(f"cannot listen on {endpoint}: {exc}") from exc
        self.endpoint = router.getsockopt_string(zmq.LAST_ENDPOINT)
        self._router = router
        self._thread = threading.Thread(target=self._serve, name="aegis-zmq-io", daemon=True)
        self._thread.start()

    def take_over(self, alone: bool = False) -> None:
        """Make the calling thread the socket's owner from now on (the I/O thread ends).

        ``alone``: nothing else hands this thread work (no other transport submits requests or
        replies from its own thread), so :meth:`serve` waits in the socket's own receive."""
        if self._owner == threading.get_ident():
            return
        self._releasing.set()
        self.wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.failure is not None:
            raise RuntimeError(f"ingress socket: the ZeroMQ I/O thread failed: {self.failure!r}")
        self._poller = None if alone else self._new_poller()
        self._owner = threading.get_ident()

    @property
    def served_here(self) -> bool:
        """Whether the calling thread owns the sockets (after :meth:`take_over`)."""
        return self._owner == threading.get_ident()

    def serve(self, wait_s: float) -> None:
        """One turn on the owning thread: wait up to ``wait_s`` for anything, send finished replies,
        answer pings and submit requests."""
        assert self.served_here, "serve() before take_over() on this thread"
        if self._poller is not None:
            self._turn(self._poller, round(wait_s * 1000))
            return
        router = self._router
        assert router is not None
        if not self._outbox.empty():  # e.g. BUSY answers of a shutdown
            self._send_replies(router)
        if wait_s <= 0:
            self._read(router)
            return
        timeout = max(1, round(wait_s * 1000))
        if timeout != self._receive_timeout:
            router.rcvtimeo = self._receive_timeout = timeout
        try:
            first = router.recv(copy=False)  # waits in ZeroMQ, without the interpreter lock
        except zmq.Again:
            return
        self._read(router, first)

    def stop(self) -> None:
        """Send every reply handed over so far, then close (idempotent)."""
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        elif self._router is not None and not self._router.closed:
            self._send_replies(self._router)  # taken over: the last replies go out from here
        self.close()

    def close(self) -> None:
        self._stopping.set()
        if self._zap_thread is not None:
            self._zap_thread.join(timeout=10)  # it closes the ZAP socket as it ends
            self._zap_thread = None
        for sock in (self._router, self._zap):
            if sock is not None and not sock.closed:
                sock.close()
        self._router = self._zap = None
        if not self.context.closed:
            self.context.term()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1

    # -- replies (any thread) ---------------------------------------------------

    def deliver(self, done: list[Pending]) -> None:
        if self._owner == threading.get_ident() and self._router is not None:
            for pending in done:
                self._send(self._router, pending)
            return
        for pending in done:
            self._outbox.put(pending)
        self.wake()

    def wake(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except (BlockingIOError, OSError):  # full: a wake-up is pending anyway; closed: stopping
            pass

    # -- the I/O thread ---------------------------------------------------------

    def _new_poller(self) -> zmq.Poller:
        poller = zmq.Poller()
        poller.register(self._router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        return poller

    def _serve(self) -> None:
        poller = self._new_poller()
        try:
            while self._turn(poller, 100) and not self._releasing.is_set():
                pass
        except BaseException as exc:  # keep the reason for the health ping and the kernel
            self.failure = exc
            log.exception("ZeroMQ I/O thread failed")

    def _turn(self, poller: zmq.Poller, timeout_ms: int) -> bool:
        """Wait up to ``timeout_ms``, send finished replies, then (unless stopping) read requests.
        ``False`` once stopping."""
        router = self._router
        assert router is not None
        events = dict(poller.poll(timeout_ms))
        if self._wake_r in events:
            try:
                os.read(self._wake_r, 65536)
            except BlockingIOError:
                pass
        self._send_replies(router)
        if self._stopping.is_set():
            return False
        if router in events:
            self._read(router)
        return True

    def _send_replies(self, router: zmq.Socket) -> None:
        outbox = self._outbox
        while True:
            try:
                pending = outbox.get_nowait()
            except queue.Empty:
                return
            self._send(router, pending)

    def _send(self, router: zmq.Socket, pending: Pending) -> None:
        # frame by frame with a plain-int flag: send_multipart's enum flag arithmetic costs more
        # than the sends of a small reply
        send, results = router.send, pending.results
        try:
            for frame in pending.context:
                send(frame, _MORE)
            send(pending.request_id, _MORE)
            send(pending.status, _MORE if results else 0)
            if pending.lines and results:
                send(b"\n".join(results))
            else:
                for frame in results[:-1]:
                    send(frame, _MORE)
                if results:
                    send(results[-1])
        except zmq.ZMQError as exc:  # e.g. the peer's queue is full: the client retries
            log.warning("reply to %s dropped: %s", pending.origin, exc)
        self.window.release(pending.weight)

    def _peer(self, first: zmq.Frame) -> str:
        rid = first.bytes
        name = self._peers.get(rid)
        if name is None:
            if len(self._peers) > 65_536:
                self._peers.clear()
            user = first.get("User-Id") if self._secret_key is not None else ""
            name = user or f"{first.get('Peer-Address') or '?'}/{rid.hex()}"
            self._peers[rid] = name
        return name

    def _read(self, router: zmq.Socket, first: zmq.Frame | None = None) -> None:
        """Handle the messages waiting (up to :data:`READ_BURST`), from ``first`` (already received) on."""
        recv = router.recv
        for _ in range(READ_BURST):
            if first is None:
                try:
                    first = recv(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    return
            frames = [first.bytes]
            frame = first
            while frame.more:  # the frame's own flag: cheaper than asking the socket for RCVMORE
                frame = recv(copy=False)
                frames.append(frame.bytes)
            self._handle(router, self._peer(first), frames)
            first = None

    def _handle(self, router: zmq.Socket, peer: str, frames: list[bytes]) -> None:
        envelope, body = split_envelope(frames)
        self._sequence += 1
        origin = f"zmq:{peer}#{self._sequence}"
        try:
            request = parse_request(body, self.limits)
        except ProtocolError as exc:
            pending = Pending(self, envelope, exc.request_id, origin, [], problem=str(exc), evidence=evidence(body))
            self._admit(router, pending)
            return
        if request.verb == PING:
            reply = [PONG, orjson.dumps(self.health())]
            router.send_multipart([*envelope, *reply] if request.bare_ping else [*envelope, request.request_id,
                                                                                 *reply])
            return
        self._admit(router, Pending(self, envelope, request.request_id, origin, request.payloads,
                                    retry=request.retry, rejected=request.oversized, lines=request.lines))

    def _admit(self, router: zmq.Socket, pending: Pending) -> None:
        if self.window.admit(pending.weight):
            self.intake.submit(pending, wake=False)  # read on the thread that serves the socket: awake
            return
        router.send_multipart([*pending.context, pending.request_id, BUSY, self._busy()])

    def _busy(self) -> bytes:
        return error_result("busy", in_flight=self.window.in_flight, max_in_flight=self.window.capacity,
                            retry_after_ms=1)


def health_figures(window: Window, intake: Intake, started: float, server_key: str | None) -> dict:
    """What a PING answers: whether requests are being answered, and how full the server is."""
    figures = {"status": "NOT_SERVING" if window.stalled else "SERVING", "protocol": PROTOCOL_VERSION,
               "in_flight": window.in_flight, "max_in_flight": window.capacity, "queued": intake.queued,
               "drops_total": window.drops_total, "uptime_s": round(time.monotonic() - started, 3)}
    if server_key:
        figures["server_key"] = server_key
    return figures
