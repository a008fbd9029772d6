"""The gRPC side of the sidecar: ``aegis.v1.Screening`` and ``grpc.health.v1.Health``.

An asyncio gRPC server runs in its own thread and event loop. Each call becomes a
:class:`~aegis_ingress_socket.inflight.Pending` request in the same intake and in-flight window
as the ZeroMQ socket, and awaits a future that the acknowledgement resolves (through
``call_soon_threadsafe``), so a reply leaves only after its audit record is durable.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import grpc
import orjson
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from aegis.proto import screening_pb2 as pb
from aegis.proto import screening_pb2_grpc as pb_grpc
from aegis_ingress_socket.config import GrpcConfig
from aegis_ingress_socket.convert import decision_message, screen_result, transaction_document
from aegis_ingress_socket.inflight import Pending, Window
from aegis_ingress_socket.intake import Intake

log = logging.getLogger("aegis.ingress.socket")

SERVICE = "aegis.v1.Screening"
RETRY_METADATA = "aegis-retry"
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class GrpcServer:
    """Serves until :meth:`stop`; :meth:`start` returns once the port is bound (or raises why not)."""

    def __init__(self, config: GrpcConfig, host: str, intake: Intake, window: Window, max_records: int):
        self.config = config
        self.host = config.host or host
        self.intake = intake
        self.window = window
        self.max_records = max_records
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._sequence = 0

    # -- lifecycle (kernel thread) -----------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aegis-grpc", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise OSError(f"gRPC server on {self.host}:{self.config.port} did not start within 30 s")
        if self._failure is not None:
            raise OSError(f"cannot serve gRPC on {self.host}:{self.config.port}: {self._failure}") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def deliver(self, done: list[Pending]) -> None:
        loop = self._loop
        for pending in done:
            self.window.release(pending.weight)
            future: asyncio.Future = pending.context
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future, pending)

    # -- the server thread ---------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        limit = self.config.max_message_bytes
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit),
                                          ("grpc.max_send_message_length", limit), ("grpc.so_reuseport", 0)])
        pb_grpc.add_ScreeningServicer_to_server(_Screening(self), server)
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.port = server.add_insecure_port(f"{host}:{self.config.port}")
        await server.start()
        serving = True
        for service in ("", SERVICE):
            await health.set(service, _SERVING)
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=0.5)
                except TimeoutError:
                    pass
                if serving == self.window.stalled:  # report a stalled pipeline through the health service
                    serving = not serving
                    for service in ("", SERVICE):
                        await health.set(service, _SERVING if serving else _NOT_SERVING)
        finally:
            await health.enter_graceful_shutdown()
            await server.stop(grace=2)

    async def screen(self, documents: list[dict], context: grpc.aio.ServicerContext) -> list[dict]:
        """Submit the transactions as one request and wait for their results (after audit)."""
        metadata = dict(context.invocation_metadata() or ())
        self._sequence += 1
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        pending = Pending(self, future, b"", f"grpc:{context.peer()}#{self._sequence}",
                          documents, retry=metadata.get(RETRY_METADATA) == "1")
        if not self.window.admit(pending.weight):
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"busy: {self.window.in_flight} transactions in flight (max "
                                f"{self.window.capacity}); retry after a short backoff")
        self.intake.submit(pending)
        done: Pending = await asyncio.shield(future)
        if done.busy:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy: the server is shutting down; retry")
        return [orjson.loads(r) for r in done.results if r is not None]


def _resolve(future: asyncio.Future, pending: Pending) -> None:
    if not future.done():
        future.set_result(pending)


class _Screening(pb_grpc.ScreeningServicer):
    def __init__(self, server: GrpcServer):
        self.server = server

    async def Screen(self, request: pb.Transaction, context: grpc.aio.ServicerContext) -> pb.Decision:
        (result,) = await self.server.screen([transaction_document(request)], context)
        if "error" in result:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, result["error"])
        return decision_message(result)

    async def ScreenBatch(self, request: pb.TransactionBatch, context: grpc.aio.ServicerContext) -> pb.DecisionBatch:
        count = len(request.transactions)
        if count == 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ScreenBatch needs at least one transaction")
        if count > self.server.max_records:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"{count} transactions in one request: at most {self.server.max_records}")
        results = await self.server.screen([transaction_document(t) for t in request.transactions], context)
        return pb.DecisionBatch(results=[screen_result(r) for r in results])


__all__ = ["RETRY_METADATA", "SERVICE", "GrpcServer"]
