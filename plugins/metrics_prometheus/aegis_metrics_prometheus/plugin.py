"""The ``prometheus`` metrics plugin: the core metrics on an HTTP endpoint Prometheus scrapes."""

from __future__ import annotations

import logging
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.stats import BatchStats
from aegis_metrics_prometheus.core import CoreMetrics
from aegis_metrics_prometheus.server import MetricsEndpoint


class PrometheusMetrics:
    """Serves ``aegis_transactions_total``, ``aegis_ingress_tps``, ``aegis_ring_buffer_usage`` and friends.

    Each instance owns its registry and endpoint, so several instances (or tests) never clash.
    The prover's metrics (port 9091) will be a second registry on a second :class:`MetricsEndpoint`.
    """

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")

        host: str = Field("0.0.0.0", description="address to serve /metrics on (0.0.0.0: all interfaces)")
        port: int = Field(9090, ge=0, le=65535, description="port of the core metrics (0: any free port)")
        tps_window: float = Field(5.0, gt=0, le=3600,
                                  description="seconds over which aegis_ingress_tps averages transactions")

    def __init__(self, config: Config):
        self.config = config
        self.core = CoreMetrics(tps_window=config.tps_window)
        self.endpoint = MetricsEndpoint(self.core.registry, config.host, config.port)
        self._log = logging.getLogger("aegis.metrics.prometheus")

    @property
    def port(self) -> int | None:
        """The bound port of the core endpoint once started."""
        return self.endpoint.port

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        self._log = context.log.getChild("metrics.prometheus")
        self.endpoint.start()
        self._log.info("serving Prometheus metrics on %s:%d/metrics", self.config.host, self.endpoint.port)

    @hookimpl
    def aegis_shutdown(self, context: Context) -> None:
        self.endpoint.stop()

    @hookimpl
    def aegis_metrics_observe(self, stats: BatchStats) -> None:
        self.core.observe(stats)

    @hookimpl
    def aegis_self_test(self, context: Context) -> list[SelfTestResult]:
        check = "metrics endpoint serves aegis_transactions_total"
        try:
            with urllib.request.urlopen(self.endpoint.url, timeout=5) as response:
                text = response.read().decode("utf-8")
            names = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
            ok = "aegis_transactions_total" in names
            detail = f"{self.endpoint.url}: {len(names)} series" if ok else \
                f"{self.endpoint.url} answered without aegis_transactions_total"
        except Exception as exc:  # a self-test reports every failure instead of raising
            ok, detail = False, f"{self.endpoint.url}: {type(exc).__name__}: {exc}"
        return [SelfTestResult(plugin="metrics (prometheus)", check=check, ok=ok, detail=detail)]
