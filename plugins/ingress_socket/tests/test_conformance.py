"""The kernel's ingress conformance suite, run against the socket source as a vendor would.

The records are put "into the source out of band" by a client that connects before the plugin
binds: ZeroMQ queues the requests and delivers them once the server is up, in order.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import zmq

from aegis.client.wire import SCREEN
from aegis.testing import IngressPluginTests


class TestSocketIngressConformance(IngressPluginTests):
    plugin_name = "socket"
    finite = False  # a server: it never ends by itself
    resumable = False  # nothing to resume: a client whose request was not answered retries it

    @pytest.fixture(autouse=True)
    def client_context(self) -> Iterator[None]:
        self.context = zmq.Context()
        self.clients: list[zmq.Socket] = []  # kept open until the test ends, so their requests get delivered
        yield
        self.context.destroy(linger=0)

    def source_config(self, tmp_path, payloads: list[bytes]) -> dict:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = self.context.socket(zmq.DEALER)
        client.linger = 0
        self.clients.append(client)
        client.connect(f"tcp://127.0.0.1:{port}")
        for i, payload in enumerate(payloads):
            client.send_multipart([b"c%d" % i, SCREEN, payload])
        return {"host": "127.0.0.1", "port": port}
