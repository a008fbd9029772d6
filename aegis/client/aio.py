"""The asyncio client: many concurrent ``await client.screen(tx)`` over one DEALER socket.

One reader task receives every reply and resolves the waiting call by request id; a call that
times out is resent as RETRY under the same id, so whichever reply comes first answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import orjson
import zmq
import zmq.asyncio

from aegis.client.curve import CurveKeys
from aegis.client.frames import RequestIds, TransactionLike, batch_request, encode_transaction, results_of, retry_after
from aegis.client.results import Busy, Decision, RecordError, Rejected, ScreeningTimeout
from aegis.client.retry import Backoff
from aegis.client.sync import DEFAULT_ENDPOINT
from aegis.client.wire import BUSY, LINES_VERBS, PING, PONG, RETRY_OF, SCREEN


class AsyncClient:
    """Like :class:`aegis.client.Client`, for asyncio; use it from one event loop.

    ``async with AsyncClient(endpoint) as c: decision = await c.screen(tx)``
    """

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, timeout: float = 1.0, retries: int = 3,
                 backoff: Backoff | None = None, curve: CurveKeys | None = None,
                 context: zmq.asyncio.Context | None = None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or Backoff()
        self._context = context or zmq.asyncio.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.linger = 0
        if curve is not None:
            curve.apply(self._socket)
        self._socket.connect(endpoint)
        self._ids = RequestIds()
        self._waiting: dict[bytes, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._socket.close(0)

    # -- API -------------------------------------------------------------------------

    async def screen(self, transaction: TransactionLike) -> Decision:
        """Screen one transaction; raise :class:`Rejected` when it fails validation."""
        (result,) = await self._call(SCREEN, [encode_transaction(transaction)])
        if isinstance(result, RecordError):
            raise Rejected(result.error, result.uetr)
        return result

    async def screen_batch(self, transactions: Iterable[TransactionLike]) -> list[Decision | RecordError]:
        """Screen transactions as one request; results in order."""
        return await self._call(*batch_request([encode_transaction(t) for t in transactions]))

    async def ping(self, timeout: float | None = None) -> dict:
        reply = await self._roundtrip(self._ids(), [PING], self.timeout if timeout is None else timeout)
        if reply[0] != PONG:
            raise ScreeningTimeout(f"unexpected answer to PING: {reply[:1]!r}")
        return orjson.loads(reply[1])

    # -- the engine ------------------------------------------------------------------

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="aegis-client-reader")

    async def _read(self) -> None:
        while True:
            reply = await self._socket.recv_multipart()
            future = self._waiting.get(reply[0]) if reply else None
            if future is not None and not future.done() and len(reply) >= 2:
                future.set_result(reply[1:])

    async def _roundtrip(self, request_id: bytes, body: list[bytes], timeout: float) -> list[bytes]:
        self._ensure_reader()
        future = self._waiting[request_id] = asyncio.get_running_loop().create_future()
        try:
            await self._socket.send_multipart([request_id, *body])
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ScreeningTimeout(f"no reply from {self.endpoint} within {timeout} s") from None
        finally:
            self._waiting.pop(request_id, None)

    async def _call(self, verb: bytes, frames: list[bytes]) -> list[Decision | RecordError]:
        self._ensure_reader()
        request_id = self._ids()
        loop = asyncio.get_running_loop()
        future = self._waiting[request_id] = loop.create_future()
        try:
            for attempt in range(self.retries + 1):
                await self._socket.send_multipart([request_id, verb, *frames])
                try:
                    reply = await asyncio.wait_for(asyncio.shield(future), self.timeout)
                except TimeoutError:
                    verb = RETRY_OF[verb]  # the first attempt may have been screened: ask for the record
                    continue
                if reply[0] == BUSY:
                    if attempt == self.retries:
                        raise Busy(f"{self.endpoint} still busy after {self.retries} retries")
                    await asyncio.sleep(self.backoff.delay(attempt, retry_after(reply[1:])))
                    future = self._waiting[request_id] = loop.create_future()
                    continue
                return results_of(reply[0], reply[1:], lines=verb in LINES_VERBS)
            raise ScreeningTimeout(f"no reply from {self.endpoint} within {self.timeout} s, {self.retries} retries")
        finally:
            self._waiting.pop(request_id, None)
