"""The bounded proof queue: requests in, proofs out of worker processes, off the hot path."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Literal, NamedTuple

from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import ProvingKey, pk_from_bytes
from aegis_zkp_groth16.metrics import ZkpMetrics
from aegis_zkp_groth16.outbox import Entity, SignalPublisher
from aegis_zkp_groth16.prover import PYTHON, Backend, BackendName, UnsatisfiedWitness, backend_named, prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json
from aegis_zkp_groth16.store import ProofStore

log = logging.getLogger("aegis.proving.groth16")

_WORKER_KEY: ProvingKey | None = None
_WORKER_BACKEND: Backend = PYTHON


def _worker_init(pk_path: str, backend: BackendName) -> None:
    global _WORKER_KEY, _WORKER_BACKEND
    _WORKER_KEY = pk_from_bytes(Path(pk_path).read_bytes(), pk_path)
    _WORKER_BACKEND = backend_named(backend)
    risk_signal_r1cs()


def prove_signal(signal: RiskSignal) -> tuple[dict, list[str]]:
    """Worker entry: the snarkjs proof and public inputs for ``signal``."""
    if _WORKER_KEY is None:
        raise RuntimeError("prover worker used before its key was loaded")
    proof = prove(_WORKER_KEY, risk_signal_r1cs(), witness(signal), _WORKER_BACKEND)
    return proof_to_json(proof), public_to_json(signal.public_inputs())


class Job(NamedTuple):
    """One proof request: the decision's UETR and statement, the public model's digest (the queue's
    default when ``None``), and the pseudonyms to publish consortium signals for once it is proved."""

    uetr: str
    signal: RiskSignal
    model: str | None = None
    entities: tuple[Entity, ...] = ()


class ProofQueue:
    """At most ``size`` waiting requests; overflow drops per policy and counts the drop.

    With a ``publisher``, every proved job that names entities is published as consortium signals.
    """

    def __init__(self, pk_path: Path, store: ProofStore, metrics: ZkpMetrics, model_digest: str,
                 workers: int, size: int, overflow: Literal["drop_new", "drop_oldest"],
                 backend: BackendName = "auto", publisher: SignalPublisher | None = None):
        self.store, self.metrics, self.model_digest = store, metrics, model_digest
        self.overflow, self.publisher = overflow, publisher
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        # spawn, not fork: forking a process whose numba kernels already started OpenMP threads aborts the child
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_init,
                                         initargs=(str(pk_path), backend))
        self._slots = threading.Semaphore(workers)
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._dispatcher = threading.Thread(target=self._dispatch, name="aegis-zkp-dispatch", daemon=True)
        self._dispatcher.start()

    def submit(self, jobs: list[Job] | list[tuple[str, RiskSignal]]) -> int:
        """Queue ``jobs`` (or ``(uetr, statement)`` pairs) without blocking; returns how many were queued."""
        queued = 0
        for item in jobs:
            job = Job(*item)
            self.metrics.triggers.inc()
            try:
                self._jobs.put_nowait(job)
            except queue.Full:
                self.metrics.dropped.inc()
                if self.overflow == "drop_new":
                    continue
                try:
                    self._jobs.get_nowait()
                    self._done()
                except queue.Empty:
                    pass
                try:
                    self._jobs.put_nowait(job)
                except queue.Full:
                    continue
            with self._lock:
                self._pending += 1
                self.metrics.queue_depth.set(self._pending)
            queued += 1
        return queued

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self.metrics.queue_depth.set(self._pending)
            self._idle.notify_all()

    def _dispatch(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._slots.acquire()
            future = self._pool.submit(prove_signal, job.signal)
            future.add_done_callback(lambda f, j=job: self._finish(j, f))

    def _finish(self, job: Job, future) -> None:
        """Runs on a callback thread: store the proof and publish its consortium signals."""
        uetr, signal, model = job.uetr, job.signal, job.model or self.model_digest
        try:
            proof, public = future.result()
            opening = {"features": list(signal.features), "salt": str(signal.salt)}
            published = []
            if self.publisher is not None and job.entities:
                published = self.publisher.publish(uetr, model, proof, public, job.entities)
            self.store.put(uetr, model, proof, public, opening, published)
            self.metrics.proved.inc()
        except UnsatisfiedWitness as exc:
            self.metrics.failed.inc()
            log.warning("no proof for %s: %s", uetr, exc)
        except Exception:
            self.metrics.failed.inc()
            log.exception("proving %s failed", uetr)
        finally:
            self._slots.release()
            self._done()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued request is proved or failed; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self) -> None:
        while True:
            try:
                self._jobs.get_nowait()
                self._done()
            except queue.Empty:
                break
        self._jobs.put(None)
        self._dispatcher.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)


