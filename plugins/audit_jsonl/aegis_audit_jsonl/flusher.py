"""The ``fsync: interval`` policy: a background thread that fsyncs written files every interval."""

from __future__ import annotations

import logging
import threading

from aegis_audit_jsonl.append_file import AppendFile

log = logging.getLogger("aegis.audit.jsonl")


class IntervalFlusher:
    """fsyncs ``files`` every ``interval`` seconds while anything was written, and once more on stop.

    A record written just after a flush becomes durable at most ``interval`` seconds later,
    whether or not more records follow.
    """

    def __init__(self, files: list[AppendFile], interval: float):
        self.files = files
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-jsonl-fsync", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                for f in self.files:
                    f.sync()
            except OSError as exc:  # surfaced by the next write: durability can no longer be promised
                log.error("fsync of the audit log failed: %s", exc)
                self.failure = exc
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(1.0, 2 * self.interval))
