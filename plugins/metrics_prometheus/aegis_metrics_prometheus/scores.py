"""A Prometheus histogram fed whole arrays at once: bucket counts computed with numpy."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector


class ArrayHistogram(Collector):
    """A histogram observed per batch with :meth:`observe_array`, never per value.

    :param name: the metric name (exposed as ``<name>_bucket``, ``<name>_count``, ``<name>_sum``).
    :param documentation: its help text.
    :param bounds: the buckets' upper bounds (``le``), ascending; ``+Inf`` is added.
    """

    def __init__(self, name: str, documentation: str, bounds: Sequence[float]):
        self.name = name
        self.documentation = documentation
        self.bounds = np.asarray(bounds, dtype=np.float64)
        if self.bounds.ndim != 1 or not self.bounds.size or np.any(np.diff(self.bounds) <= 0):
            raise ValueError(f"histogram {name}: bounds must be a non-empty ascending sequence, got {list(bounds)}")
        self._counts = np.zeros(self.bounds.size + 1, dtype=np.int64)  # per bucket, last is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe_array(self, values: object) -> None:
        """Add every value of ``values`` (array-like of numbers); NaNs are left out."""
        array = np.asarray(values, dtype=np.float64).ravel()
        array = array[~np.isnan(array)]
        if not array.size:
            return
        # searchsorted(side="left") puts v in the first bucket whose bound is >= v, i.e. v <= le.
        counts = np.bincount(np.searchsorted(self.bounds, array, side="left"), minlength=self._counts.size)
        total = float(array.sum())
        with self._lock:
            self._counts += counts
            self._sum += total

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            cumulative = np.cumsum(self._counts)
            total = self._sum
        labels = [repr(float(b)) for b in self.bounds] + ["+Inf"]
        yield HistogramMetricFamily(self.name, self.documentation,
                                    buckets=list(zip(labels, cumulative.tolist(), strict=True)), sum_value=total)

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation)
