"""Per-batch figures the pipeline hands to metrics plugins and the run summary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchStats:
    """One acknowledged batch.

    :param source: the ingress plugin that produced it.
    :param transactions: decided transactions (rejects not included).
    :param rejects: records sent to the dead-letter sinks.
    :param clear, investigate, block: decisions by type.
    :param screening_errors: transactions decided INVESTIGATE because a scoring plugin failed.
    :param drops: records the ingress refused under backpressure (e.g. BUSY replies).
    :param queue_fill: fill of the intake queue in [0, 1] when the batch was taken.
    :param latency_s: seconds from receipt to acknowledgement of the batch.
    :param risk_scores: the batch's risk scores (for histograms), or an empty tuple.
    """

    source: str
    transactions: int
    rejects: int
    clear: int
    investigate: int
    block: int
    screening_errors: int
    drops: int
    queue_fill: float
    latency_s: float
    risk_scores: object = ()
