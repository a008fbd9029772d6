"""The proving plugin's Prometheus metrics, in their own registry (served on port 9091)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class ZkpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.triggers = Counter("aegis_zkp_triggers", "decisions that triggered a proof request",
                                registry=self.registry)
        self.dropped = Counter("aegis_zkp_dropped", "proof requests dropped because the queue was full",
                               registry=self.registry)
        self.proved = Counter("aegis_zkp_proofs", "proofs produced and stored", registry=self.registry)
        self.failed = Counter("aegis_zkp_failed", "proof requests the prover refused or failed on",
                              registry=self.registry)
        self.queue_depth = Gauge("aegis_zkp_queue_depth", "proof requests waiting or being proved",
                                 registry=self.registry)
        self._server = None

    def serve(self, port: int) -> None:
        self._server = start_http_server(port, registry=self.registry)

    def close(self) -> None:
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            thread.join(timeout=2)
            self._server = None
