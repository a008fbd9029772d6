"""An append-only JSON Lines file: torn-tail repair, one write per batch, fsync policy, rotation."""

from __future__ import annotations

import gzip
import logging
import os
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

from aegis_audit_jsonl.config import FsyncPolicy
from aegis_audit_jsonl.tail import complete_length

log = logging.getLogger("aegis.audit.jsonl")
MODE = 0o640
_sync = getattr(os, "fdatasync", os.fsync)  # appended data and the new size; no need for atime/mtime


def fsync_directory(path: Path) -> None:
    """Make a created, renamed or removed directory entry durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_torn_tail(path: Path) -> int:
    """Truncate a partial last line (a crash mid-write) and return how many bytes were dropped.

    Those records were never acknowledged (a write returns only when complete), so their
    source delivers them again.
    """
    size = os.path.getsize(path)
    keep = complete_length(path) if size else 0
    if keep == size:
        return 0
    with open(path, "r+b") as f:
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    log.warning("%s ended with a partial line (crash during a write): dropped its last %d bytes; those records "
                "were never acknowledged and will be delivered again", path, size - keep)
    return size - keep


def compress_archive(path: Path) -> Path:
    """gzip a rotated file durably (``name.jsonl`` → ``name.jsonl.gz``), then remove the original."""
    target = path.with_name(path.name + ".gz")
    if target.exists():
        raise FileExistsError(f"{target} already exists: refusing to overwrite an audit archive")
    tmp = path.with_name(f".{path.name}.gz.tmp")
    with open(path, "rb") as src, open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        shutil.copyfileobj(src, gz, 1 << 20)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
    fsync_directory(path.parent)
    path.unlink()
    fsync_directory(path.parent)
    log.info("compressed %s to %s", path.name, target.name)
    return target


def read_archive(path: Path) -> bytes:
    """A log file's bytes, decompressed when it is a ``.gz`` archive."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


class AppendFile:
    """One JSON Lines file opened with ``O_APPEND``; every :meth:`append` is a single ``write``."""

    def __init__(self, path: Path, fsync: FsyncPolicy, rotate_bytes: int | None = None, compress: bool = False):
        self.path = path
        self._name = os.fspath(path)
        self.fsync = fsync
        self.rotate_bytes = rotate_bytes
        self.compress = compress
        self._lock = threading.Lock()
        self._fd = -1
        self._identity = (0, 0)
        self._dirty = False
        self.size = 0
        self.torn_bytes_dropped = 0

    @property
    def rotated_name(self) -> re.Pattern[str]:
        """Names of this file's rotated predecessors: ``<stem>.<UTC timestamp>.<n>.jsonl[.gz]``."""
        return re.compile(rf"^{re.escape(self.path.stem)}\.(\d{{8}}T\d{{6}}Z)\.(\d+)\.jsonl(?:\.gz)?$")

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.torn_bytes_dropped = repair_torn_tail(self.path)
        self._open_fd()

    def _open_fd(self) -> None:
        """Open (creating if needed) the file at ``path``; a new file's directory entry is fsynced."""
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, MODE)
        st = os.fstat(self._fd)
        self.size, self._identity = st.st_size, (st.st_dev, st.st_ino)
        if created:
            fsync_directory(self.path.parent)

    def _follow_external_rotation(self) -> None:
        """Reopen the path when someone moved the file away (``mv log log.1; touch log``, logrotate):
        one ``stat`` of the path per append (kept as a ``str``: no ``Path`` conversion each time)."""
        try:
            st = os.stat(self._name)
            moved = (st.st_dev, st.st_ino) != self._identity
        except FileNotFoundError:
            moved = True
        if moved:
            if self.fsync != "never":
                _sync(self._fd)
            os.close(self._fd)
            self._dirty = False
            self._open_fd()
            log.warning("%s was moved or replaced from outside; writing to the file now at that path", self.path)

    def append(self, data: bytes) -> None:
        """Append ``data`` (whole lines) in one ``write`` call, then fsync as the policy says."""
        if not data:
            return
        with self._lock:
            self._follow_external_rotation()
            if self.rotate_bytes is not None and self.size and self.size + len(data) > self.rotate_bytes:
                self._rotate()
            written = os.write(self._fd, data)
            while written < len(data):  # a short write (disk full, signal): finish it or raise
                written += os.write(self._fd, memoryview(data)[written:])
            self.size += len(data)
            if self.fsync == "batch":
                _sync(self._fd)
            else:
                self._dirty = True

    def sync(self) -> None:
        """fsync if anything was written since the last fsync (the interval flusher and shutdown).

        The disk flush runs outside the lock, on a duplicate of the descriptor (it flushes the same
        file): appends go on meanwhile instead of waiting a whole fsync (tens of milliseconds on a
        disk), and a rotation may close the original. What is appended during the flush stays dirty
        for the next one.
        """
        with self._lock:
            if not (self._dirty and self._fd >= 0):
                return
            fd = os.dup(self._fd)
            self._dirty = False
        try:
            _sync(fd)
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        # Numbers only grow within a second (also past archives deleted under retention), so name
        # order stays chain order and a compressed predecessor is never overwritten.
        taken = [int(m.group(2)) for p in self.path.parent.iterdir()
                 if (m := self.rotated_name.match(p.name)) and m.group(1) == stamp]
        n = max(taken, default=0) + 1
        target = self.path.with_name(f"{self.path.stem}.{stamp}.{n}.jsonl")
        if self.fsync != "never":
            _sync(self._fd)
        os.close(self._fd)
        os.rename(self.path, target)
        self._open_fd()  # fsyncs the directory: the rename and the new file are durable
        self._dirty = False
        log.info("rotated %s to %s", self.path, target.name)
        if self.compress:
            compress_archive(target)

    def rotated(self) -> list[Path]:
        """This file's rotated predecessors, oldest first."""
        pattern = self.rotated_name
        found = []
        for p in self.path.parent.iterdir():
            m = pattern.match(p.name)
            if m:
                found.append((m.group(1), int(m.group(2)), p))
        return [p for _, _, p in sorted(found)]

    def close(self) -> None:
        with self._lock:
            if self._fd < 0:
                return
            if self._dirty and self.fsync != "never":
                _sync(self._fd)
            os.close(self._fd)
            self._fd = -1
            self._dirty = False

