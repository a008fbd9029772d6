"""Topic metadata: which of the topics the source needs exist, and their partition counts."""

from __future__ import annotations

from confluent_kafka import Producer


def partition_counts(client: Producer, topics: list[str], timeout: float) -> dict[str, int | None]:
    """Partition count of each topic (``None`` when the cluster does not have it).

    Raises :class:`confluent_kafka.KafkaException` when no broker answers within ``timeout``.
    """
    metadata = client.list_topics(timeout=timeout)
    counts: dict[str, int | None] = {}
    for topic in topics:
        meta = metadata.topics.get(topic)
        counts[topic] = len(meta.partitions) if meta is not None and meta.error is None and meta.partitions else None
    return counts


def missing_topics(client: Producer, topics: list[str], timeout: float) -> list[str]:
    return [t for t, n in partition_counts(client, topics, timeout).items() if n is None]
