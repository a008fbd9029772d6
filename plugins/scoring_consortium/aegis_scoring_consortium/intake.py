"""From feed lines to accepted signals: parse, skip repeats, verify (batched), file each verdict.

Proof verification (py_ecc pairings, about 0.1–0.4 s per proof) runs in one spawned worker process
when ``background`` is set, so a reload never holds up screening: a check hands new signals to the
worker and files the verdicts of the previous hand-over once they are ready.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import orjson
from aegis_zkp_groth16.consortium import MALFORMED, Policy, Verdict, verify_signals

from aegis_scoring_consortium.book import Rejection, SignalBook
from aegis_scoring_consortium.feed import FeedLine, FeedReader

log = logging.getLogger("aegis.scoring.consortium")


@dataclass
class IntakeResult:
    """What one check filed: accepted signal ids, rejections, unreadable feeds."""

    accepted: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.accepted or self.rejections or self.errors)


@dataclass
class _Batch:
    signals: list[dict]
    origins: list[str]
    future: Future


class SignalIntake:
    def __init__(self, reader: FeedReader, book: SignalBook, policy: Policy, background: bool):
        self.reader, self.book, self.policy = reader, book, policy
        self._pool: ProcessPoolExecutor | None = None
        self._background = background
        self._pending: _Batch | None = None

    def load(self) -> IntakeResult:
        """Read and verify everything the feeds hold now, in this process (startup)."""
        result = IntakeResult()
        signals, origins = self._read(result)
        if signals:
            self._file(signals, origins, verify_signals(signals, self.policy), result)
        return result

    def check(self) -> IntakeResult:
        """File the verdicts that are ready, then hand newly appended signals over for verification."""
        result = IntakeResult()
        if self._pending is not None and self._pending.future.done():
            self._collect(self._pending, result)
            self._pending = None
        if self._pending is None:
            signals, origins = self._read(result)
            if signals:
                self._pending = _Batch(signals, origins, self._verify(signals))
                if self._pending.future.done():  # verified in this process
                    self._collect(self._pending, result)
                    self._pending = None
        return result

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def _verify(self, signals: list[dict]) -> Future:
        """Everything but age: that is judged per payment, by its own time, so replay decides alike."""
        if not self._background:
            future: Future = Future()
            future.set_result(verify_signals(signals, self.policy))
            return future
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool.submit(verify_signals, signals, self.policy)

    def _collect(self, batch: _Batch, result: IntakeResult) -> None:
        try:
            verdicts = batch.future.result()
        except Exception as exc:  # the worker died (BrokenProcessPool): verify here, start a new worker next time
            log.error("consortium: the verification worker failed (%s: %s); verifying %d signal(s) in process",
                      type(exc).__name__, exc, len(batch.signals))
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            verdicts = verify_signals(batch.signals, self.policy)
        self._file(batch.signals, batch.origins, verdicts, result)

    def _read(self, result: IntakeResult) -> tuple[list[dict], list[str]]:
        poll = self.reader.poll()
        result.errors += poll.errors
        signals, origins = [], []
        for line in poll.lines:
            signal = self._parse(line, result)
            if signal is not None:
                signals.append(signal)
                origins.append(line.origin)
        return signals, origins

    def _parse(self, line: FeedLine, result: IntakeResult) -> dict | None:
        try:
            signal = orjson.loads(line.data)
        except orjson.JSONDecodeError as exc:
            self._rejected(Rejection(line.origin, None, Verdict(False, f"{MALFORMED}: not JSON: {exc}")), result)
            return None
        signal_id = signal.get("signal_id") if isinstance(signal, dict) else None
        if not isinstance(signal_id, str):
            self._rejected(Rejection(line.origin, None, Verdict(False, f"{MALFORMED}: no signal_id")), result)
            return None
        verdict = self.book.admit(signal_id, line.data)
        if verdict is None:
            return signal
        if not verdict.ok:
            self._rejected(Rejection(line.origin, signal_id, verdict), result)
        return None

    def _file(self, signals: list[dict], origins: list[str], verdicts: list[Verdict], result: IntakeResult) -> None:
        accepted = []
        for signal, origin, verdict in zip(signals, origins, verdicts, strict=True):
            if verdict.ok:
                accepted.append((signal, origin))
                result.accepted.append(signal["signal_id"])
            else:
                self._rejected(Rejection(origin, signal.get("signal_id"), verdict), result)
        if accepted:
            self.book.accept(accepted)

    def _rejected(self, rejection: Rejection, result: IntakeResult) -> None:
        self.book.reject(rejection)
        result.rejections.append(rejection)
        log.warning("consortium: rejected signal %s at %s: %s", rejection.signal_id or "?", rejection.origin,
                    rejection.verdict.reason)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending = None
