"""Aegis ``prometheus`` metrics plugin: screening throughput, decisions and latency for Prometheus."""

from aegis_metrics_prometheus.plugin import PrometheusMetrics

__all__ = ["PrometheusMetrics"]
