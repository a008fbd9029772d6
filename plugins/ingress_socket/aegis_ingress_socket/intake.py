"""From requests to the kernel's batches: what ``aegis_ingress_poll`` returns.

Transports submit :class:`~aegis_ingress_socket.inflight.Pending` requests from their own
threads; the kernel's intake thread takes whatever is waiting (blocking up to ``wait_s`` for the
first) and gets one :class:`~aegis.model.RawBatch` of at most ``max_records`` transactions. A
request larger than the room left is split across batches. RETRY requests are answered from
the replay cache or the audit trail first; only UETRs never decided are screened again.
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import orjson

from aegis.model import RawBatch, Reject
from aegis_ingress_socket.inflight import Pending, Window
from aegis_ingress_socket.protocol import KEEP_BYTES
from aegis_ingress_socket.replies import ReplayCache, record_result

log = logging.getLogger("aegis.ingress.socket")

Lookup = Callable[[str], "dict | None"]


def read_document(payload: bytes | dict) -> dict | str:
    """The transaction frame as a JSON object, or why it is not one.

    Each frame is parsed here, on its own, so a frame can never count as anything but one record
    (an empty frame, or ``{...},{...}``, is a reject, not zero or two transactions).
    """
    if isinstance(payload, dict):  # already a document (gRPC)
        return payload
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return f"Invalid JSON: {exc}"
    if not isinstance(doc, dict):
        return f"a transaction must be a JSON object, got {type(doc).__name__}"
    return doc


def uetr_of(doc: dict) -> str | None:
    """The canonical (lower-case, hyphenated) UETR of a transaction document, or ``None``."""
    value = doc.get("uetr")
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def deliver(done: list[Pending]) -> None:
    """Hand finished requests to their transports, one call per transport."""
    if not done:
        return
    if len(done) == 1:
        done[0].transport.deliver(done)
        return
    by_transport: dict[int, list[Pending]] = defaultdict(list)
    for p in done:
        by_transport[id(p.transport)].append(p)
    for group in by_transport.values():
        group[0].transport.deliver(group)


class Intake:
    """The queue between the transports and the kernel's poll."""

    def __init__(self, source: str, window: Window, replay: ReplayCache, lookup: Lookup | None = None):
        self.source = source
        self.window = window
        self.replay = replay
        self.lookup = lookup
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._carry: tuple[Pending, int] | None = None
        #: called after a submission from another thread while the kernel polls the sockets' owner
        #: (inline intake), which waits on its poller rather than on this queue
        self.waker: Callable[[], None] | None = None

    def submit(self, pending: Pending, wake: bool = True) -> None:
        """Queue an admitted request (any thread; ``wake=False`` from the thread that polls)."""
        self._queue.put(pending)
        if wake and self.waker is not None:
            self.waker()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    @property
    def waiting(self) -> bool:
        """Whether a request waits to be batched."""
        return self._carry is not None or not self._queue.empty()

    def drain(self) -> list[Pending]:
        """Everything still waiting (at shutdown, once the kernel stopped polling)."""
        out = [self._carry[0]] if self._carry else []
        self._carry = None
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def _replayed(self, uetr: str) -> bytes | None:
        """The recorded decision of ``uetr``: from the replay cache, else from the audit trail.

        ``aegis_audit_lookup`` runs on this (the kernel's intake) thread, beside audit writes on the
        main thread; sinks read their storage for it (the JSONL sink memory-maps its files).
        """
        found = self.replay.get(uetr)
        if found is not None or self.lookup is None:
            return found
        try:
            record = self.lookup(uetr)
        except Exception:  # the audit trail cannot answer: screen again, the sinks stay idempotent
            log.exception("audit lookup of UETR %s for a RETRY failed; screening it again", uetr)
            return None
        if not record:
            return None
        return self.replay.remember([uetr], [record_result(record)])[0]

    def _open(self, pending: Pending, rejects: list[Reject], where: dict) -> None:
        """First sight of a request: parse its frames; problems become rejects; RETRY records are looked up."""
        if pending.problem is not None:
            rejects.append(Reject(origin=pending.origin, reason=pending.problem, payload=pending.evidence))
            where[pending.origin] = (pending, -1)
            pending.todo = []
            return
        refused = list(pending.rejected)
        todo = []
        for index in pending.todo:
            payload = pending.payloads[index]
            if not pending.retry and isinstance(payload, bytes) and payload[:1] == b"{" and payload[-1:] == b"}":
                todo.append(index)  # decoded as it came, one record, by the pipeline (which words any reject)
                continue
            doc = read_document(payload)
            if isinstance(doc, str):
                refused.append((index, doc))
                continue
            pending.payloads[index] = doc
            result = self._replayed(uetr) if pending.retry and (uetr := uetr_of(doc)) else None
            if result is None:
                todo.append(index)
            else:
                pending.fill(index, result)
        for index, reason in refused:
            origin = pending.record_origin(index)
            payload = pending.payloads[index]
            rejects.append(Reject(origin=origin, reason=reason, payload=payload[:KEEP_BYTES]))
            where[origin] = (pending, index)
        pending.todo = todo

    def next_batch(self, max_records: int, wait_s: float) -> RawBatch | None:
        """The waiting requests as one batch, or ``None`` after ``wait_s`` without any (and no drops to report)."""
        payloads: list[dict] = []
        origins: list[str] = []
        rejects: list[Reject] = []
        where: dict[str, tuple[Pending, int]] = {}
        answered: list[Pending] = []
        received = 0
        if self._carry is not None:
            pending, offset = self._carry
        else:
            try:
                pending, offset = self._queue.get(timeout=wait_s) if wait_s > 0 else self._queue.get_nowait(), 0
            except queue.Empty:
                return self._drops_only()
        while True:
            if offset == 0:
                self._open(pending, rejects, where)
                if pending.remaining == 0:
                    answered.append(pending)
            received = min(received or pending.received_ns, pending.received_ns)
            take = pending.todo[offset:offset + max_records - len(payloads)]
            for index in take:
                origin = pending.record_origin(index)
                payloads.append(pending.payloads[index])
                origins.append(origin)
                where[origin] = (pending, index)
            offset += len(take)
            if offset < len(pending.todo):
                self._carry = (pending, offset)
                break
            self._carry = None
            if len(payloads) >= max_records:
                break
            try:
                pending, offset = self._queue.get_nowait(), 0
            except queue.Empty:
                break
        deliver(answered)
        if not payloads and not rejects:
            return self._drops_only()
        return RawBatch(source=self.source, payloads=payloads, origins=origins, token=where, rejects=rejects,
                        drops=self.window.take_drops(), received_ns=received or time.perf_counter_ns())

    def _drops_only(self) -> RawBatch | None:
        """An empty batch that reports drops (BUSY replies) when no request carries them."""
        drops = self.window.take_drops()
        if not drops:
            return None
        return RawBatch(source=self.source, payloads=[], origins=[], token={}, drops=drops,
                        received_ns=time.perf_counter_ns())
