"""The files a source replays, in order: listing, identity checks and progress."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aegis_ingress_file.position import FileIdentity, Position

#: Part files of a PaySim log directory, read in sorted order as one stream.
PAYSIM_PARTS = "rawLog.part*.csv"
#: How many leading bytes fingerprint a file (detects a rewrite that keeps the inode).
HEAD_BYTES = 4096


class SourceChanged(RuntimeError):
    """The saved position no longer fits the files: they were replaced, shrank or rewritten."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    size: int
    device: int
    inode: int

    @property
    def name(self) -> str:
        return self.path.name


class SourceFiles:
    """One file, or the sorted PaySim part files of a directory, read as one stream."""

    def __init__(self, root: Path, files: list[SourceFile]):
        self.root = root
        self.files = files
        self.total_bytes = sum(f.size for f in files)
        self._before = [sum(f.size for f in files[:i]) for i in range(len(files))]
        self._heads: dict[tuple[int, int], str] = {}

    @classmethod
    def open(cls, path: Path) -> SourceFiles:
        """List the files of ``path``; a missing path or an empty directory is an error naming it."""
        path = path.expanduser()
        if path.is_dir():
            paths = sorted(path.glob(PAYSIM_PARTS))
            if not paths:
                raise FileNotFoundError(f"file source directory {path} holds no {PAYSIM_PARTS} files")
        elif path.exists():
            paths = [path]
        else:
            raise FileNotFoundError(f"file source {path} does not exist (absolute: {path.absolute()})")
        files = []
        for p in paths:
            try:
                st = p.stat()
                with open(p, "rb") as f:
                    f.read(1)
            except OSError as exc:
                raise OSError(f"file source {p} is not readable: {exc.strerror or exc}") from exc
            files.append(SourceFile(p, st.st_size, st.st_dev, st.st_ino))
        return cls(path, files)

    def bytes_done(self, position: Position) -> int:
        if position.file_index >= len(self.files):
            return self.total_bytes
        return self._before[position.file_index] + position.offset

    def progress(self, position: Position) -> tuple[int, int]:
        """(bytes read up to ``position``, bytes in all files); a file that grew raises the total."""
        done = self.bytes_done(position)
        self.total_bytes = max(self.total_bytes, done)
        return done, self.total_bytes

    def identity(self, position: Position) -> FileIdentity:
        """The identity of the position's file, fingerprinted up to the position (at most 4 KiB)."""
        f = self.files[position.file_index]
        head_len = min(position.offset, HEAD_BYTES)
        key = (position.file_index, head_len)
        digest = self._heads.get(key)
        if digest is None:
            digest = self._heads[key] = _head_sha256(f.path, head_len)
        return FileIdentity(f.name, f.device, f.inode, head_len, digest)

    def verify(self, position: Position, saved: FileIdentity, state_file: Path) -> None:
        """Raise :class:`SourceChanged` unless the files still hold what ``position`` acknowledged."""
        advice = f"delete {state_file} to replay from the start, or set resume: false"
        if position.file_index >= len(self.files) or self.files[position.file_index].name != saved.name:
            now = [f.name for f in self.files]
            raise SourceChanged(f"resume position {state_file} acknowledged records up to byte {position.offset} "
                                f"of {saved.name} (file {position.file_index + 1} of the source), but "
                                f"{self.root} now holds {now}; {advice}")
        current = self.files[position.file_index]
        if (current.device, current.inode) != (saved.device, saved.inode):
            raise SourceChanged(f"{current.path} was replaced (inode {saved.inode} → {current.inode}) since "
                                f"records up to byte {position.offset} were acknowledged; {advice}")
        if current.size < position.offset:
            raise SourceChanged(f"{current.path} shrank to {current.size} bytes but records up to byte "
                                f"{position.offset} were acknowledged; {advice}")
        if _head_sha256(current.path, saved.head_len) != saved.head_sha256:
            raise SourceChanged(f"the first {saved.head_len} bytes of {current.path} changed since records "
                                f"were acknowledged (same inode, rewritten in place); {advice}")


def _head_sha256(path: Path, length: int) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(length)).hexdigest()
