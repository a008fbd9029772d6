"""Conformance suite for ``aegis.metrics`` plugins.

Provide ``plugin_name``, ``plugin_config`` and ``scrape(self, harness) -> dict[str, float]``,
an out-of-band read of the exported values (e.g. HTTP GET of ``/metrics``), keyed by sample
name with labels dropped and values summed.
"""

from __future__ import annotations

import numpy as np

from aegis.stats import BatchStats
from aegis.testing.base import PluginTests

CORE_METRICS = ("aegis_transactions_total", "aegis_risk_blocks_total", "aegis_drops_total",
                "aegis_ingress_tps", "aegis_ring_buffer_usage")


def stats(n: int, block: int, fill: float = 0.25) -> BatchStats:
    return BatchStats(source="ingress[0] (file)", transactions=n, rejects=1, clear=n - block - 1,
                      investigate=1, block=block, screening_errors=0, drops=0, queue_fill=fill,
                      latency_s=0.004, risk_scores=np.linspace(0, 1, n))


class MetricsPluginTests(PluginTests):
    family = "metrics"

    def scrape(self, harness) -> dict[str, float]:
        raise NotImplementedError("must be overridden: read exported metric values out of band")

    def test_core_metrics_are_exported(self, harness):
        harness.call("aegis_metrics_observe", stats=stats(10, 2))
        values = self.scrape(harness)
        missing = [m for m in CORE_METRICS if m not in values]
        assert not missing, missing

    def test_counters_match_what_flowed(self, harness):
        for _ in range(3):
            harness.call("aegis_metrics_observe", stats=stats(100, 7, fill=0.5))
        values = self.scrape(harness)
        assert values["aegis_transactions_total"] == 300
        assert values["aegis_risk_blocks_total"] == 21
        assert values["aegis_drops_total"] == 0
        assert values["aegis_ring_buffer_usage"] == 50
        assert values["aegis_ingress_tps"] > 0
