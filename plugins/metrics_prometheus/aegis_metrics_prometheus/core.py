"""The core screening metrics of the operator guide (served on port 9090), in their own registry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from aegis.stats import BatchStats
from aegis_metrics_prometheus.rate import SlidingRate
from aegis_metrics_prometheus.scores import ArrayHistogram

DECISIONS = ("CLEAR", "INVESTIGATE", "BLOCK")
#: Per-batch latency from receipt to acknowledgement: 50 µs (DPDK tier) up to 10 s.
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                   0.5, 1.0, 2.5, 5.0, 10.0)
RISK_SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))


class _RateGauge(Collector):
    """A gauge whose value is a :class:`SlidingRate`, computed when scraped so it decays between batches."""

    def __init__(self, name: str, documentation: str, rate: SlidingRate):
        self.name, self.documentation, self.rate = name, documentation, rate

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, value=self.rate.per_second())

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation)


class CoreMetrics:
    """Counters, gauges and histograms of screened batches, registered in a registry of their own.

    :param tps_window: seconds over which ``aegis_ingress_tps`` averages.
    :param clock: monotonic clock for the rate (tests may pass their own).
    """

    def __init__(self, tps_window: float, clock: Callable[[], float] = time.monotonic):
        self.registry = CollectorRegistry()
        r = self.registry
        self.transactions = Counter("aegis_transactions", "Transactions screened (decided)", registry=r)
        self.blocks = Counter("aegis_risk_blocks", "Transactions blocked", registry=r)
        self.drops = Counter("aegis_drops", "Records dropped by ingress under backpressure (e.g. BUSY replies)",
                             registry=r)
        self.decisions = Counter("aegis_decisions", "Transactions by decision", ["decision"], registry=r)
        for decision in DECISIONS:
            self.decisions.labels(decision=decision)
        self.rejects = Counter("aegis_rejects", "Records rejected as invalid and sent to the dead letters",
                               registry=r)
        self.screening_errors = Counter("aegis_screening_errors",
                                        "Transactions decided INVESTIGATE because a scoring plugin failed",
                                        registry=r)
        self.ring_buffer_usage = Gauge("aegis_ring_buffer_usage",
                                       "Fill of the pipeline's intake queue in percent (0-100), last batch",
                                       registry=r)
        self.batch_latency = Histogram("aegis_batch_latency_seconds",
                                       "Seconds from receipt to acknowledgement of a batch",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.risk_scores = ArrayHistogram("aegis_risk_score_histogram", "Distribution of risk scores",
                                          RISK_SCORE_BUCKETS)
        r.register(self.risk_scores)
        self.ingress_rate = SlidingRate(tps_window, resolution=min(0.1, tps_window), clock=clock)
        r.register(_RateGauge("aegis_ingress_tps",
                              f"Transactions per second, averaged over the last {tps_window:g} s",
                              self.ingress_rate))
        ProcessCollector(registry=r)

    def observe(self, stats: BatchStats) -> None:
        """Count one acknowledged batch (in memory only: no I/O)."""
        self.transactions.inc(stats.transactions)
        self.blocks.inc(stats.block)
        self.drops.inc(stats.drops)
        self.rejects.inc(stats.rejects)
        self.screening_errors.inc(stats.screening_errors)
        for decision, count in zip(DECISIONS, (stats.clear, stats.investigate, stats.block), strict=True):
            self.decisions.labels(decision=decision).inc(count)
        self.ring_buffer_usage.set(min(max(stats.queue_fill, 0.0), 1.0) * 100.0)
        self.batch_latency.observe(stats.latency_s)
        self.risk_scores.observe_array(stats.risk_scores)
        self.ingress_rate.add(stats.transactions)
