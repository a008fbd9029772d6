"""The ZAP handler (ZeroMQ RFC 27): lets a CURVE client in only if its public key is allowed.

It runs on a thread of its own (:meth:`Gatekeeper.serve`), which alone uses the REP socket bound
at ``inproc://zeromq.zap.01`` in the server's own context, so the thread that serves the
requests never has to watch it. A refused client's handshake fails, so it can send nothing and
gets nothing.
"""

from __future__ import annotations

import logging
import threading

import zmq
from zmq.utils.z85 import decode as z85_decode
from zmq.utils.z85 import encode as z85_encode

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
DOMAIN = b"aegis"

log = logging.getLogger("aegis.ingress.socket")


class Gatekeeper:
    """The allow-list of client public keys (binary, 32 bytes each), swapped atomically on reload."""

    def __init__(self, client_keys: list[str]):
        self.allowed: frozenset[bytes] = frozenset()
        self.ephemeral: set[bytes] = set()  # the plugin's own self-test key, never persisted
        self.accepted = 0
        self.refused = 0
        self.allow(client_keys)

    def allow(self, client_keys: list[str]) -> None:
        self.allowed = frozenset(z85_decode(k.encode()) for k in client_keys)

    def bind(self, context: zmq.Context) -> zmq.Socket:
        """Bind the ZAP socket; must happen before the server socket binds."""
        sock = context.socket(zmq.REP)
        sock.linger = 0
        sock.bind(ZAP_ENDPOINT)
        return sock

    def serve(self, sock: zmq.Socket, stopping: threading.Event) -> None:
        """Answer authentication requests on ``sock`` until ``stopping`` is set, then close it."""
        try:
            while not stopping.is_set():
                if not sock.poll(100):
                    continue
                try:
                    self.handle(sock)
                except zmq.ZMQError:  # the REP socket is out of step: its client's handshake fails
                    log.exception("ZAP request not answered; that connection is not authenticated")
        finally:
            sock.close(0)

    def handle(self, sock: zmq.Socket) -> None:
        """Answer one ZAP request waiting on ``sock``."""
        frames = sock.recv_multipart()
        if len(frames) < 6:
            log.warning("malformed ZAP request of %d frames ignored", len(frames))
            sock.send_multipart([b"1.0", b"", b"500", b"malformed ZAP request", b"", b""])
            return
        version, request_id, domain, address, _identity, mechanism = frames[:6]
        credentials = frames[6:]
        key = credentials[0] if mechanism == b"CURVE" and credentials else b""
        if len(key) == 32 and (key in self.allowed or key in self.ephemeral):
            self.accepted += 1
            sock.send_multipart([version, request_id, b"200", b"OK", z85_encode(key), b""])
            return
        self.refused += 1
        client = z85_encode(key).decode() if len(key) == 32 else f"mechanism {mechanism.decode('ascii', 'replace')}"
        log.warning("refused connection from %s (domain %s): client key %s is not in the allow-list",
                    address.decode("ascii", "replace"), domain.decode("ascii", "replace"), client)
        sock.send_multipart([version, request_id, b"400", b"client key not allowed", b"", b""])
