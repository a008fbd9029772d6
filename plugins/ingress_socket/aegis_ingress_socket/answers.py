"""From the kernel's acknowledgement to replies: each decision or reject back to its request."""

from __future__ import annotations

from collections.abc import Sequence

from aegis.decide import Decisions
from aegis.model import RawBatch, Reject
from aegis_ingress_socket.inflight import Pending
from aegis_ingress_socket.replies import ReplayCache, error_result, reject_result


def answer(raw: RawBatch, decisions: Decisions | None, rejects: Sequence[Reject],
           replay: ReplayCache) -> list[Pending]:
    """Fill the results of the batch's requests; return the requests that are now complete.

    Called only once the audit records and dead letters are durable. A UETR decided before (a
    retry, a duplicate the sinks skipped) gets the earlier result, the one on record.
    """
    where: dict[str, tuple[Pending, int]] = raw.token or {}
    if not where:
        return []
    done: list[Pending] = []
    if decisions is not None and len(decisions):
        results = replay.remember(decisions.uetr, decisions.summaries())
        for origin, result in zip(decisions.batch.origins, results, strict=True):
            pending, index = where[origin]
            if pending.fill(index, result):
                done.append(pending)
    for reject in rejects:
        entry = where.get(reject.origin)
        if entry is None:
            continue
        pending, index = entry
        result = error_result(reject.reason) if index < 0 else reject_result(index, reject.uetr, reject.reason)
        if pending.fill(index, result, error=True):
            done.append(pending)
    return done
