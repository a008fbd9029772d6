"""The ``fsync: interval`` policy: a background thread that fsyncs written files every interval."""

from __future__ import annotations

import logging
import threading

from aegis_audit_jsonl.append_file import AppendFile

log = logging.getLogger("aegis.audit.jsonl")


class IntervalFlusher:
    """fsyncs ``files`` every ``interval`` seconds while anything was written, and once more on stop.

    A record written just after a flush becomes durable at most ``interval`` seconds later,
    whether or not more records follow. Checkpoints handed over with :meth:`seal` are appended to
    ``checkpoints`` (which fsyncs them) right after the flush that made their records durable: a
    checkpoint is never on disk before the records it covers, and sealing never waits for the disk.
    """

    def __init__(self, files: list[AppendFile], interval: float, checkpoints: AppendFile):
        self.files = files
        self.interval = interval
        self.checkpoints = checkpoints
        self._sealed: list[bytes] = []  # checkpoint lines waiting for their records' flush
        self._sealed_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-jsonl-fsync", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def seal(self, line: bytes) -> None:
        """Write checkpoint ``line`` (sealed after its records were written) once they are durable."""
        with self._sealed_lock:
            self._sealed.append(line)

    def _flush(self) -> None:
        # Checkpoints taken before the flush starts cover records written before it: durable after it.
        with self._sealed_lock:
            sealed, self._sealed = self._sealed, []
        for f in self.files:
            f.sync()
        if sealed:
            self.checkpoints.append(b"".join(sealed))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._flush()
            except OSError as exc:  # surfaced by the next write: durability can no longer be promised
                log.error("fsync of the audit log failed: %s", exc)
                self.failure = exc
                return

    def stop(self) -> None:
        """Stop the thread, then flush what is left (and write the checkpoints still waiting)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(1.0, 2 * self.interval))
        if self.failure is None and not self._thread.is_alive():
            self._flush()
        elif self._sealed:
            log.warning("%d audit checkpoint(s) not written (the background fsync failed or hangs): the records "
                        "they seal are sealed again at the next start", len(self._sealed))
