"""The blocking client: one DEALER socket, pipelined requests, timeouts, retries.

A ``Client`` is not thread-safe (neither are ZeroMQ sockets): use one per thread.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
import zmq

from aegis.client.curve import CurveKeys
from aegis.client.frames import RequestIds, TransactionLike, batch_request, encode_transaction, results_of, retry_after
from aegis.client.results import Busy, Decision, RecordError, Rejected, ScreeningTimeout
from aegis.client.retry import Backoff
from aegis.client.wire import BUSY, DEFAULT_PORT, LINES_VERBS, PING, PONG, RETRY_OF, SCREEN

DEFAULT_ENDPOINT = f"tcp://127.0.0.1:{DEFAULT_PORT}"


@dataclass
class _Call:
    index: int
    request_id: bytes
    frames: list[bytes]
    verb: bytes = SCREEN
    attempt: int = 0
    deadline: float = 0.0


class Client:
    """Screens transactions against the sidecar's ZeroMQ socket.

    :param endpoint: the server, e.g. ``tcp://127.0.0.1:5555``.
    :param timeout: seconds to wait for one reply before resending it as RETRY.
    :param retries: resends after BUSY or a timeout before giving up (:class:`Busy`,
        :class:`ScreeningTimeout`).
    :param backoff: waits between BUSY retries.
    :param curve: CURVE credentials when the server requires them.
    """

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, timeout: float = 1.0, retries: int = 3,
                 backoff: Backoff | None = None, curve: CurveKeys | None = None,
                 context: zmq.Context | None = None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or Backoff()
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.linger = 0
        if curve is not None:
            curve.apply(self._socket)
        self._socket.connect(endpoint)
        self._ids = RequestIds()

    def close(self) -> None:
        self._socket.close(0)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API -------------------------------------------------------------------------

    def screen(self, transaction: TransactionLike) -> Decision:
        """Screen one transaction; raise :class:`Rejected` when it fails validation."""
        (result,) = self._exchange([[encode_transaction(transaction)]], window=1)[0]
        if isinstance(result, RecordError):
            raise Rejected(result.error, result.uetr)
        return result

    def screen_batch(self, transactions: Iterable[TransactionLike]) -> list[Decision | RecordError]:
        """Screen transactions as one request; results in order (a rejected one is a :class:`RecordError`)."""
        verb, frames = batch_request([encode_transaction(t) for t in transactions])
        return self._exchange([frames], window=1, verb=verb)[0]

    def screen_many(self, transactions: Sequence[TransactionLike], window: int = 64) -> list[Decision | RecordError]:
        """Screen each transaction as its own request, ``window`` of them in flight at once (pipelined)."""
        replies = self._exchange([[encode_transaction(t)] for t in transactions], window=window)
        return [r[0] for r in replies]

    def ping(self, timeout: float | None = None) -> dict:
        """The server's health figures (answered without touching the pipeline)."""
        request_id = self._ids()
        self._socket.send_multipart([request_id, PING])
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while (left := deadline - time.monotonic()) > 0:
            if not self._socket.poll(max(1, int(left * 1000))):
                break
            reply = self._socket.recv_multipart()
            if reply[0] == request_id and len(reply) >= 3 and reply[1] == PONG:
                return orjson.loads(reply[2])
        raise ScreeningTimeout(f"no PONG from {self.endpoint} within {timeout or self.timeout} s")

    # -- the engine ------------------------------------------------------------------

    def _send(self, call: _Call) -> None:
        call.deadline = time.monotonic() + self.timeout
        self._socket.send_multipart([call.request_id, call.verb, *call.frames])

    def _exchange(self, requests: list[list[bytes]], window: int,
                  verb: bytes = SCREEN) -> list[list[Decision | RecordError]]:
        """Send every request (``window`` at a time), resend on BUSY/timeout, return results in order."""
        out: list[list[Decision | RecordError] | None] = [None] * len(requests)
        todo = deque(_Call(i, self._ids(), frames, verb) for i, frames in enumerate(requests))
        waiting: dict[bytes, _Call] = {}
        backing_off: list[tuple[float, int, _Call]] = []  # (due, index, call)
        left = len(requests)
        while left:
            now = time.monotonic()
            while backing_off and backing_off[0][0] <= now:
                call = heapq.heappop(backing_off)[2]
                self._send(call)
                waiting[call.request_id] = call
            while todo and len(waiting) + len(backing_off) < window:
                call = todo.popleft()
                self._send(call)
                waiting[call.request_id] = call
            wake = min([c.deadline for c in waiting.values()] + [b[0] for b in backing_off[:1]])
            if self._socket.poll(max(0, int((wake - time.monotonic()) * 1000) + 1)):
                reply = self._socket.recv_multipart()
                call = waiting.get(reply[0]) if reply else None
                if call is None or len(reply) < 2:
                    continue  # a late reply to a request already answered
                del waiting[call.request_id]
                if reply[1] == BUSY:
                    if call.attempt >= self.retries:
                        raise Busy(f"{self.endpoint} still busy after {self.retries} retries")
                    delay = self.backoff.delay(call.attempt, retry_after(reply[2:]))
                    call.attempt += 1
                    heapq.heappush(backing_off, (time.monotonic() + delay, call.index, call))
                    continue
                out[call.index] = results_of(reply[1], reply[2:], lines=call.verb in LINES_VERBS)
                left -= 1
                continue
            now = time.monotonic()
            for call in [c for c in waiting.values() if c.deadline <= now]:
                if call.attempt >= self.retries:
                    raise ScreeningTimeout(f"no reply from {self.endpoint} within {self.timeout} s, "
                                           f"{self.retries} retries")
                call.attempt += 1
                call.verb = RETRY_OF[call.verb]  # the first attempt may have been screened: ask for the record
                self._send(call)
        return out  # type: ignore[return-value]


__all__ = ["DEFAULT_ENDPOINT", "Client"]
