"""Requests in flight: each one waiting for its results, and the bounded window over all of them."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from aegis.client.wire import BUSY, ERROR, OK, REJECTED


class Transport(Protocol):
    """Where a finished request's reply goes (the ZeroMQ socket, a gRPC call)."""

    def deliver(self, done: list[Pending]) -> None:
        """Send the replies of ``done`` (called from any thread)."""


class Pending:
    """One request between receipt and reply: its transactions and a result slot for each.

    ``todo`` are the indexes still to screen through the pipeline; ``rejected`` the ones the
    ingress itself refused (oversized frames); ``payloads`` are frames until the intake parses them
    into documents; ``problem`` a request-level error (then the
    request has no transactions). Results are JSON texts, filled by the intake (replayed
    decisions) and by the acknowledgement (decisions and rejects); ``lines``: the transport sends
    them as the lines of one frame rather than a frame each.
    """

    __slots__ = ("busy", "context", "errors", "evidence", "lines", "origin", "payloads", "problem", "received_ns",
                 "rejected", "remaining", "request_id", "results", "retry", "todo", "transport", "weight")

    def __init__(self, transport: Transport, context: object, request_id: bytes, origin: str,
                 payloads: list[bytes | dict], retry: bool = False, rejected: list[tuple[int, str]] | None = None,
                 problem: str | None = None, evidence: bytes = b"", lines: bool = False):
        self.transport = transport
        self.context = context  # transport's own (ZeroMQ envelope, gRPC future)
        self.request_id = request_id
        self.origin = origin
        self.payloads = payloads
        self.retry = retry
        self.lines = lines
        self.rejected = rejected or []
        self.problem = problem
        self.evidence = evidence
        self.results: list[bytes | None] = [None] * len(payloads)
        self.errors = 0
        self.busy = False
        self.remaining = len(payloads) if problem is None else 1
        bad = {i for i, _ in self.rejected}
        self.todo = [i for i in range(len(payloads)) if i not in bad] if bad else list(range(len(payloads)))
        self.weight = max(1, len(payloads))  # what it takes of the in-flight window
        self.received_ns = time.perf_counter_ns()

    def record_origin(self, index: int) -> str:
        return f"{self.origin}.{index}"

    def fill(self, index: int, result: bytes, error: bool = False) -> bool:
        """Store one result (``index`` -1: the request-level problem); ``True`` when the request is complete.

        ``error`` marks a rejected transaction. A slot is filled once; a second result for it is ignored.
        """
        if index < 0:
            self.results = [result]
            self.remaining = 0
            return True
        if self.results[index] is None:
            self.results[index] = result
            self.remaining -= 1
            self.errors += error
        return self.remaining == 0

    def refuse(self, result: bytes) -> None:
        """Answer BUSY with ``result`` instead of screening (e.g. at shutdown, never handed to the kernel)."""
        self.busy = True
        self.results = [result]
        self.remaining = 0

    @property
    def status(self) -> bytes:
        if self.busy:
            return BUSY
        if self.problem is not None:
            return ERROR
        return REJECTED if self.errors else OK


class Window:
    """Counts transactions accepted and not yet answered, over every connection and transport.

    ``admit`` refuses (and counts a drop) when the window would overflow, so memory stays bounded
    and an overloaded server says BUSY at once instead of queueing silently.
    """

    def __init__(self, capacity: int, stall_after_s: float):
        self.capacity = capacity
        self.stall_after_s = stall_after_s
        self.in_flight = 0
        self.drops_total = 0
        self._drops_unreported = 0
        self._progress = time.monotonic()
        self._lock = threading.Lock()

    def admit(self, weight: int) -> bool:
        with self._lock:
            if self.in_flight + weight > self.capacity:
                self.drops_total += weight
                self._drops_unreported += weight
                return False
            if self.in_flight == 0:
                self._progress = time.monotonic()
            self.in_flight += weight
            return True

    def release(self, weight: int) -> None:
        with self._lock:
            self.in_flight -= weight
            self._progress = time.monotonic()

    def take_drops(self) -> int:
        """Drops since the last call (what the next batch reports to the kernel)."""
        with self._lock:
            drops, self._drops_unreported = self._drops_unreported, 0
            return drops

    @property
    def stalled(self) -> bool:
        """Requests are waiting and none was answered for ``stall_after_s``."""
        return self.in_flight > 0 and time.monotonic() - self._progress > self.stall_after_s


__all__ = ["Pending", "Transport", "Window"]
