"""The run loop: ingress → decode → score → decide → audit → acknowledge → prove.

One intake thread per ingress plugin polls and decodes batches into a bounded queue
(its fill is ``aegis_ring_buffer_usage``); the main thread scores, decides, writes the
audit records, and only then acknowledges the batch to its source. Batches are
acknowledged in the order they were polled. A source may also queue a request to run on the
main thread between batches (shard state checkpoints and restores, see
:meth:`aegis._manager.PluginHost.checkpoint_shards`). A stop request (SIGTERM/SIGINT) stops
intake, drains what is queued, acknowledges it, and returns.

A single source that implements ``aegis_ingress_poll_inline`` (the sidecar) is instead polled
on the main thread itself, between batches: with no queue and no intake thread, a request is
read, screened, audited and answered by one thread.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aegis._loading import LoadedPlugin
from aegis._manager import PluginHost
from aegis.audit_trail import AuditTrail
from aegis.config import DeploymentConfig
from aegis.decide import Decisions, decide
from aegis.decode import decode, decode_columns
from aegis.model import Batch, RawBatch, Reject, ScoreResult
from aegis.snapshots import SnapshotStore, bundle
from aegis.stats import BatchStats

log = logging.getLogger("aegis.pipeline")
_END = object()


@contextmanager
def batch_gc() -> Iterator[None]:
    """The collector settings screening runs under (benchmarks use them too, to measure the same).

    Everything alive at the start (plugins, lists, indexes, models) is frozen out of collection,
    and generation-0 collections become rare: batches allocate many short-lived objects, and
    rescanning long-lived ones at every collection would dominate.
    """
    old_threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old_threshold)
        gc.unfreeze()


@dataclass
class RunSummary:
    """What a run did, for the CLI summary and tests."""

    transactions: int = 0
    rejects: int = 0
    decisions: Counter = field(default_factory=Counter)
    screening_errors: int = 0
    drops: int = 0
    batches: int = 0
    seconds: float = 0.0
    batch_latencies: list[float] = field(default_factory=list)
    reloads: list = field(default_factory=list)
    stopped_by_signal: bool = False

    @property
    def tps(self) -> float:
        return self.transactions / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, q: float) -> float:
        if not self.batch_latencies:
            return 0.0
        return float(np.percentile(np.asarray(self.batch_latencies), q) * 1e3)

    def as_dict(self) -> dict:
        return {
            "transactions": self.transactions, "rejects": self.rejects,
            "clear": self.decisions["CLEAR"], "investigate": self.decisions["INVESTIGATE"],
            "block": self.decisions["BLOCK"], "screening_errors": self.screening_errors, "drops": self.drops,
            "batches": self.batches, "seconds": round(self.seconds, 3), "tps": round(self.tps, 1),
            "batch_latency_p50_ms": round(self.latency_ms(50), 3),
            "batch_latency_p99_ms": round(self.latency_ms(99), 3),
        }


@dataclass
class _Item:
    plugin: LoadedPlugin
    raw: RawBatch
    batch: Batch | None
    rejects: list[Reject]
    queue_fill: float
    decoding: Future | None = None  # decode in a worker process: (BatchColumns | None, rejects)


@dataclass
class _Between:
    """A function a source asked to run on the main thread between batches (shard checkpoints)."""

    fn: Callable[[], object]
    answer: Future

    def run(self) -> None:
        if not self.answer.set_running_or_notify_cancel():
            return
        try:
            self.answer.set_result(self.fn())
        except BaseException as exc:
            self.answer.set_exception(exc)


class Pipeline:
    """Runs a built and started :class:`PluginHost` until its sources end or a stop is requested."""

    def __init__(self, host: PluginHost, config: DeploymentConfig):
        self.host = host
        self.config = config
        self.accounts = host.accounts
        self.trail = AuditTrail(host, config.audit_trail)
        self.snapshot_store = SnapshotStore(config.audit_trail.snapshot_dir
                                            or Path(config.pipeline.state_dir) / "snapshots")
        #: per scoring plugin: the versions it reported, and the digest of the snapshot in force
        self._snapshots: dict[str, tuple[dict[str, str], str]] = {}
        #: factors already reported as weighed by ``decision.default_weight``
        self._unweighted: set[str] = set()
        #: this process run: replay starts per-account state afresh where the run changes
        self.run_id = str(uuid.uuid4())
        self._pool: ProcessPoolExecutor | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=config.pipeline.queue_batches)
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._stop_requested = False
        self._main: threading.Thread | None = None  # the thread running :meth:`run`
        self._failed: list[BaseException] = []
        self.summary = RunSummary()

    # -- control -----------------------------------------------------------

    def stop(self) -> None:
        """Request a graceful stop: no new intake, drain, acknowledge, return."""
        self._stop_requested = True
        self._stop.set()

    @property
    def queue_fill(self) -> float:
        return self._queue.qsize() / self._queue.maxsize

    # -- intake ------------------------------------------------------------

    def _intake(self, lp: LoadedPlugin) -> None:
        size = self.config.pipeline.batch_size
        try:
            while not self._stop.is_set():
                raw = self.host.poll(lp, size)
                if raw is None:
                    time.sleep(0.001)
                    continue
                raw.received_ns = raw.received_ns or time.perf_counter_ns()
                if self._pool is not None:
                    future = self._pool.submit(decode_columns, raw.payloads, raw.origins, raw.labels, raw.rejects,
                                               raw.shards)
                    if not self._put(_Item(lp, raw, None, [], self.queue_fill, future)) or raw.final:
                        break
                    continue
                batch, rejects = decode(raw, self.accounts)
                # Backpressure: the source waits, nothing is dropped. A batch that never made it
                # into the queue is never acknowledged, so its source delivers it again.
                if not self._put(_Item(lp, raw, batch, rejects, self.queue_fill)) or raw.final:
                    break
        except BaseException as exc:
            log.exception("ingress %s failed", lp.path)
            self._failed.append(exc)
        finally:
            self._put(_END)

    def _on_main_thread(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` on the main thread once every item queued before it was processed."""
        if threading.current_thread() is self._main:
            return fn()
        item = _Between(fn, Future())
        if not self._put(item):
            raise RuntimeError("the pipeline is aborting: no state checkpoint or restore")
        while True:
            try:
                return item.answer.result(timeout=0.2)
            except TimeoutError:
                if self._abort.is_set():
                    item.answer.cancel()
                    raise RuntimeError("the pipeline aborted before the request was served") from None

    def _put(self, item: object) -> bool:
        while not self._abort.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    # -- processing ----------------------------------------------------------

    def _process(self, item: _Item, on_batch: Callable[[RawBatch, RunSummary], None] | None) -> None:
        host, summary = self.host, self.summary
        decisions: Decisions | None = None
        if item.decoding is not None:
            columns, item.rejects = item.decoding.result()
            item.batch = Batch.from_columns(columns, self.accounts) if columns is not None else None
        if item.batch is not None:
            results = host.score(item.batch)
            provenance = {"run": self.run_id, "snapshots": self._snapshot(results)}
            decisions = decide(item.batch, results, self.config.decision, provenance)
        # Durable before acknowledged: audit first, dead letters next, then the source.
        if decisions is not None:
            decisions.proof_refs = host.proof_references(decisions)
            self.trail.write(decisions)
        if item.rejects:
            host.dead_letter(item.rejects)
        host.ack(item.plugin, item.raw, decisions, item.rejects)
        latency = (time.perf_counter_ns() - item.raw.received_ns) / 1e9
        clear = investigate = block = errors = 0
        if decisions is not None:
            clear, investigate, block = decisions.counts()
            errors = int(decisions.error_mask.sum()) if decisions.errors else 0  # the mask is set by errors only
            host.submit_proofs(decisions)
        n = len(decisions) if decisions is not None else 0
        summary.transactions += n
        summary.rejects += len(item.rejects)
        counts = summary.decisions
        counts["CLEAR"] += clear
        counts["INVESTIGATE"] += investigate
        counts["BLOCK"] += block
        summary.screening_errors += errors
        summary.drops += item.raw.drops
        summary.batches += 1
        summary.batch_latencies.append(latency)
        if host.has("metrics"):
            host.observe(BatchStats(
                source=item.plugin.path, transactions=n, rejects=len(item.rejects), clear=clear,
                investigate=investigate, block=block, screening_errors=errors, drops=item.raw.drops,
                queue_fill=item.queue_fill, latency_s=latency,
                risk_scores=decisions.risk if decisions is not None else ()))
        if on_batch is not None:
            on_batch(item.raw, summary)

    def _snapshot(self, results: list[tuple[str, ScoreResult | BaseException]]) -> dict[str, str]:
        """Digest of each scoring plugin's snapshot, taken anew whenever its versions change."""
        out = {}
        for path, result in results:
            if isinstance(result, BaseException):
                continue
            known = self._snapshots.get(path)
            if known is None or known[0] != result.versions:  # a dict compare: most batches return the same
                lp = next(p for p in self.host.family("scoring") if p.path == path)
                answers = [a for a in self.host.call("aegis_scoring_artefacts", lp) if a is not None]
                digest = self.snapshot_store.put(bundle(lp.name, lp.config, answers[0] if answers else None,
                                                        lp.raw_config))
                known = self._snapshots[path] = (dict(result.versions), digest)
                log.info("snapshot of %s (%s): %s", path,
                         ", ".join(f"{k}={v}" for k, v in sorted(result.versions.items())), digest)
                self._warn_unweighted(path, result)
            out[path] = known[1]
        return out

    def _warn_unweighted(self, path: str, result: ScoreResult) -> None:
        """Say once per factor that it has no weight of its own in ``decision.weights`` (checked when
        a plugin's versions change: its first batch and each reload)."""
        decision = self.config.decision
        for factor in result.factors:
            if factor not in decision.weights and factor not in self._unweighted:
                self._unweighted.add(factor)
                log.warning("factor %s of %s has no weight in decision.weights: it counts with default_weight %g "
                            "(add it to decision.weights to weigh it on purpose)", factor, path,
                            decision.default_weight)

    def _maybe_reload(self, last: float) -> float:
        now = time.monotonic()
        if now - last < self.config.pipeline.reload_interval:
            return last
        for report in self.host.reload():
            self.summary.reloads.append(report)
            if report.ok:
                log.warning("Rules Reloaded: %s %s %s -> %s %s", report.plugin, report.artefact,
                            report.old_version, report.new_version, report.summary)
            else:
                log.error("Reload refused: %s %s: %s (still active: %s)", report.plugin, report.artefact,
                          report.error, report.old_version)
        return now

    def run(self, on_batch: Callable[[RawBatch, RunSummary], None] | None = None) -> RunSummary:
        """Run until every source is finished (or a stop was requested and the queue drained)."""
        with batch_gc():
            return self._run(on_batch)

    def _serve_queue(self, threads: list[threading.Thread],
                     on_batch: Callable[[RawBatch, RunSummary], None] | None) -> None:
        """Process what the intake threads queue until every one of them has ended."""
        last_reload = time.monotonic()
        for t in threads:
            t.start()
        running = len(threads)
        while running:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                last_reload = self._maybe_reload(last_reload)
                continue
            if item is _END:
                running -= 1
                continue
            if isinstance(item, _Between):
                item.run()
                continue
            self._process(item, on_batch)
            last_reload = self._maybe_reload(last_reload)

    def _serve_inline(self, lp: LoadedPlugin, on_batch: Callable[[RawBatch, RunSummary], None] | None) -> None:
        """Poll, decode and process on this thread until the source ends or a stop is requested."""
        size, last_reload = self.config.pipeline.batch_size, time.monotonic()
        while not self._stop.is_set():
            self._run_between()
            raw = self.host.poll_inline(lp, size)
            if raw is not None:
                raw.received_ns = raw.received_ns or time.perf_counter_ns()
                batch, rejects = decode(raw, self.accounts)
                self._process(_Item(lp, raw, batch, rejects, 0.0), on_batch)
                if raw.final:
                    break
            last_reload = self._maybe_reload(last_reload)
        self._run_between()

    def _run_between(self) -> None:
        """Serve what other threads asked to run between batches (inline intake queues nothing else)."""
        while not self._queue.empty():  # cheaper than get_nowait's Empty when nothing waits (each batch)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            item.run()

    def _inline_source(self) -> LoadedPlugin | None:
        """The deployment's one source when it is polled on this thread (``aegis_ingress_poll_inline``)."""
        sources, settings = self.host.family("ingress"), self.config.pipeline
        if len(sources) == 1 and settings.inline_intake and not settings.decode_workers \
                and self.host.polls_inline(sources[0]):
            return sources[0]
        return None

    def _run(self, on_batch: Callable[[RawBatch, RunSummary], None] | None) -> RunSummary:
        inline = self._inline_source()
        threads = [] if inline is not None else [
            threading.Thread(target=self._intake, args=(lp,), name=f"intake-{lp.name}", daemon=True)
            for lp in self.host.family("ingress")]
        workers = self.config.pipeline.decode_workers
        if workers:
            # spawn, not fork: plugins may already run threads (metrics servers, flushers)
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            for warm in [self._pool.submit(decode_columns, [], [], {}, []) for _ in range(workers)]:
                warm.result()
        start = time.perf_counter()
        self.trail.open()
        self._main = threading.current_thread()
        self.host.on_main_thread = self._on_main_thread
        try:
            if inline is not None:
                self._serve_inline(inline, on_batch)
            else:
                self._serve_queue(threads, on_batch)
            self.trail.seal()  # everything acknowledged is sealed before a clean exit
        except BaseException:
            self._abort.set()
            raise
        finally:
            self._stop.set()
            self.host.on_main_thread = None
            for t in threads:
                t.join(timeout=5)
            self.summary.seconds = time.perf_counter() - start
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None
        self.summary.stopped_by_signal = self._stop_requested
        if self._failed:
            raise self._failed[0]
        return self.summary
