"""One HTTP endpoint serving one registry's ``/metrics``, with a clean stop."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server


class MetricsEndpoint:
    """Serves ``registry`` on ``host:port`` (port 0 picks a free port) in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int):
        self.registry = registry
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where a local client reaches the endpoint (wildcard hosts become loopback)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/metrics"

    def start(self) -> int:
        """Bind and serve; returns the bound port."""
        try:
            self._server, self._thread = start_http_server(self.requested_port, addr=self.host,
                                                           registry=self.registry)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot serve Prometheus metrics on {self.host}:{self.requested_port}: "
                                     f"{exc.strerror or exc}") from exc
        self.port = self._server.server_port
        return self.port

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and release the port; does nothing if never started."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None
