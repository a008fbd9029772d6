"""The prometheus plugin through the real loading path, scraped over HTTP like Prometheus does."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from aegis_metrics_prometheus.rate import SlidingRate
from aegis_metrics_prometheus.scores import ArrayHistogram
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from aegis._loading import load_plugin_class
from aegis.errors import AegisError
from aegis.stats import BatchStats
from aegis.testing import PluginHarness


def harness(tmp_path: Path, **config) -> PluginHarness:
    return PluginHarness("metrics", "prometheus", {"host": "127.0.0.1", "port": 0, **config}, tmp_path)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample as (name, sorted labels) → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode("utf-8")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def stats(transactions: int = 100, block: int = 5, investigate: int = 15, rejects: int = 2, drops: int = 0,
          queue_fill: float = 0.25, latency_s: float = 0.002, risk_scores: object = (),
          screening_errors: int = 0) -> BatchStats:
    return BatchStats(source="file", transactions=transactions, rejects=rejects,
                      clear=transactions - block - investigate, investigate=investigate, block=block,
                      screening_errors=screening_errors, drops=drops, queue_fill=queue_fill,
                      latency_s=latency_s, risk_scores=risk_scores)


def test_counters_match_what_was_observed(tmp_path):
    batches = [stats(1000, block=10, investigate=40, rejects=3, drops=7, screening_errors=0),
               stats(500, block=2, investigate=8, rejects=0, drops=0, screening_errors=8),
               stats(0, block=0, investigate=0, rejects=4, drops=11)]
    with harness(tmp_path) as h:
        for batch in batches:
            h.host.observe(batch)
        samples = scrape(h.plugin.port)
    assert samples[("aegis_transactions_total", ())] == 1500
    assert samples[("aegis_risk_blocks_total", ())] == 12
    assert samples[("aegis_drops_total", ())] == 18
    assert samples[("aegis_rejects_total", ())] == 7
    assert samples[("aegis_screening_errors_total", ())] == 8
    assert samples[("aegis_decisions_total", (("decision", "CLEAR"),))] == 950 + 490
    assert samples[("aegis_decisions_total", (("decision", "INVESTIGATE"),))] == 48
    assert samples[("aegis_decisions_total", (("decision", "BLOCK"),))] == 12
    assert samples[("process_resident_memory_bytes", ())] > 0


def test_zero_series_exist_before_the_first_batch(tmp_path):
    with harness(tmp_path) as h:
        samples = scrape(h.plugin.port)
    for name in ("aegis_transactions_total", "aegis_risk_blocks_total", "aegis_drops_total",
                 "aegis_ingress_tps", "aegis_ring_buffer_usage"):
        assert samples[(name, ())] == 0, name
    assert samples[("aegis_decisions_total", (("decision", "BLOCK"),))] == 0


def test_ingress_tps_is_a_rate_over_the_window_and_decays(tmp_path):
    with harness(tmp_path, tps_window=0.5) as h:
        for _ in range(4):
            h.host.observe(stats(1000))
        busy = scrape(h.plugin.port)[("aegis_ingress_tps", ())]
        time.sleep(0.65)
        idle = scrape(h.plugin.port)[("aegis_ingress_tps", ())]
    assert busy == pytest.approx(4000 / 0.5)
    assert idle == 0


def test_ring_buffer_usage_is_the_last_queue_fill_in_percent(tmp_path):
    with harness(tmp_path) as h:
        h.host.observe(stats(queue_fill=0.9))
        h.host.observe(stats(queue_fill=0.375))
        assert scrape(h.plugin.port)[("aegis_ring_buffer_usage", ())] == 37.5
        h.host.observe(stats(queue_fill=1.2))
        assert scrape(h.plugin.port)[("aegis_ring_buffer_usage", ())] == 100


def test_risk_score_histogram_counts_every_score(tmp_path):
    rng = np.random.default_rng(3)
    first = rng.random(20_000)
    second = np.concatenate([np.round(np.linspace(0, 1, 11), 1), [0.05, 0.95]])  # values on the bounds too
    with harness(tmp_path) as h:
        h.host.observe(stats(len(first), risk_scores=first))
        h.host.observe(stats(len(second), block=1, investigate=2, risk_scores=second))
        h.host.observe(stats(0, block=0, investigate=0, risk_scores=()))
        samples = scrape(h.plugin.port)
    scores = np.concatenate([first, second])
    for bound in [round(0.1 * i, 1) for i in range(1, 11)]:
        expected = sum(1 for s in scores.tolist() if s <= bound)
        assert samples[("aegis_risk_score_histogram_bucket", (("le", str(bound)),))] == expected, bound
    assert samples[("aegis_risk_score_histogram_bucket", (("le", "+Inf"),))] == len(scores)
    assert samples[("aegis_risk_score_histogram_count", ())] == len(scores)
    assert samples[("aegis_risk_score_histogram_sum", ())] == pytest.approx(scores.sum())


def test_batch_latency_histogram(tmp_path):
    latencies = [0.0004, 0.003, 0.003, 0.2]
    with harness(tmp_path) as h:
        for latency in latencies:
            h.host.observe(stats(latency_s=latency))
        samples = scrape(h.plugin.port)
    assert samples[("aegis_batch_latency_seconds_count", ())] == 4
    assert samples[("aegis_batch_latency_seconds_sum", ())] == pytest.approx(sum(latencies))
    assert samples[("aegis_batch_latency_seconds_bucket", (("le", "0.0005"),))] == 1
    assert samples[("aegis_batch_latency_seconds_bucket", (("le", "0.005"),))] == 3
    assert samples[("aegis_batch_latency_seconds_bucket", (("le", "0.25"),))] == 4


def test_instances_have_their_own_registry_and_port(tmp_path):
    with harness(tmp_path / "a") as a, harness(tmp_path / "b") as b:
        assert a.plugin.port != b.plugin.port
        a.host.observe(stats(70))
        assert scrape(a.plugin.port)[("aegis_transactions_total", ())] == 70
        assert scrape(b.plugin.port)[("aegis_transactions_total", ())] == 0


def test_shutdown_frees_the_port(tmp_path):
    with harness(tmp_path) as h:
        port = h.plugin.port
        scrape(port)
    with pytest.raises(urllib.error.URLError):
        scrape(port)
    with harness(tmp_path, port=port) as again:
        assert again.plugin.port == port
        assert scrape(port)[("aegis_transactions_total", ())] == 0


def test_busy_port_is_a_startup_error_naming_the_address(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(AegisError) as excinfo, harness(tmp_path, port=port):
            pass
    message = str(excinfo.value)
    assert f"127.0.0.1:{port}" in message and "metrics[0] (prometheus)" in message


def test_shutdown_without_startup_does_not_raise():
    cls, _ = load_plugin_class("metrics", "prometheus")
    plugin = cls(cls.Config(host="127.0.0.1", port=0))
    plugin.aegis_shutdown(context=None)
    assert plugin.port is None


def test_self_test_scrapes_the_endpoint(tmp_path):
    with harness(tmp_path) as h:
        [result] = h.host.self_test()
    assert result.ok, result
    assert str(h.plugin.port) in result.detail


def test_config_defaults_and_bounds():
    cls, _ = load_plugin_class("metrics", "prometheus")
    config = cls.Config()
    assert (config.host, config.port, config.tps_window) == ("0.0.0.0", 9090, 5.0)
    for bad in ({"port": 70000}, {"port": -1}, {"tps_window": 0}):
        with pytest.raises(ValueError):
            cls.Config(**bad)


# -- the building blocks, with a clock of our own ------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_rate_forgets_what_left_the_window():
    clock = Clock()
    rate = SlidingRate(window=5.0, resolution=0.1, clock=clock)
    rate.add(500)
    clock.now += 2.0
    rate.add(1500)
    assert rate.per_second() == pytest.approx(2000 / 5)
    clock.now += 3.5  # the first batch is now 5.5 s old
    assert rate.per_second() == pytest.approx(1500 / 5)
    clock.now += 10
    assert rate.per_second() == 0


def test_sliding_rate_memory_is_bounded_by_the_window():
    clock = Clock()
    rate = SlidingRate(window=1.0, resolution=0.1, clock=clock)
    for _ in range(10_000):
        rate.add(1)
        clock.now += 0.001
    assert len(rate._slots) <= 11
    assert rate.per_second() == pytest.approx(1000, rel=0.11)


def test_array_histogram_ignores_nan_and_refuses_bad_bounds():
    histogram = ArrayHistogram("h", "test", [0.5, 1.0])
    histogram.observe_array(np.array([0.2, np.nan, 0.7, 3.0]))
    registry = CollectorRegistry()
    registry.register(histogram)
    assert registry.get_sample_value("h_bucket", {"le": "0.5"}) == 1
    assert registry.get_sample_value("h_bucket", {"le": "1.0"}) == 2
    assert registry.get_sample_value("h_count") == 3
    assert registry.get_sample_value("h_sum") == pytest.approx(3.9)
    with pytest.raises(ValueError, match="ascending"):
        ArrayHistogram("h", "test", [1.0, 0.5])
