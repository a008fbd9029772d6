"""The prometheus plugin passes the aegis.metrics conformance suite, scraped over HTTP."""

from __future__ import annotations

import urllib.request
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aegis.testing import MetricsPluginTests


class TestPrometheusMetricsConformance(MetricsPluginTests):
    plugin_name = "prometheus"

    @pytest.fixture
    def plugin_config(self, tmp_path) -> dict:
        return {"host": "127.0.0.1", "port": 0}

    def scrape(self, harness) -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{harness.plugin.port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
        values: dict[str, float] = defaultdict(float)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values[sample.name] += sample.value
        return dict(values)
