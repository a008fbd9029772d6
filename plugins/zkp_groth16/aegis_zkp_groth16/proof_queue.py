"""The bounded proof queue: requests in, proofs out of worker processes, off the hot path."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Literal

from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import ProvingKey, pk_from_bytes
from aegis_zkp_groth16.metrics import ZkpMetrics
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


Job = tuple[str, RiskSignal]


class ProofQueue:
    """At most ``size`` waiting requests; overflow drops per policy and counts the drop."""

    def __init__(self, pk_path: Path, store: ProofStore, metrics: ZkpMetrics, model_digest: str,
                 workers: int, size: int, overflow: Literal["drop_new", "drop_oldest"],
                 backend: BackendName = "auto"):
        self.store, self.metrics, self.model_digest = store, metrics, model_digest
        self.overflow = overflow
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

    def submit(self, jobs: list[Job]) -> int:
        """Queue ``jobs`` without blocking; returns how many were queued."""
        queued = 0
        for job in jobs:
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
            uetr, signal = job
            future = self._pool.submit(prove_signal, signal)
            future.add_done_callback(lambda f, u=uetr, s=signal: self._finish(u, s, f))

    def _finish(self, uetr: str, signal: RiskSignal, future) -> None:
        try:
            proof, public = future.result()
            opening = {"features": list(signal.features), "salt": str(signal.salt)}
            self.store.put(uetr, self.model_digest, proof, public, opening)
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


