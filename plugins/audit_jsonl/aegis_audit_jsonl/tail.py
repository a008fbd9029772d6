"""Reading a JSON Lines file from its end: the last complete lines, and where a torn last line starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

BLOCK = 1 << 20


def _blocks_backwards(f, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) blocks of an open binary file, from its end to its start."""
    end = size
    while end > 0:
        start = max(0, end - BLOCK)
        f.seek(start)
        yield start, f.read(end - start)
        end = start


def complete_length(path: Path) -> int:
    """Bytes up to and including the last newline: where a torn last line (if any) starts."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        for start, block in _blocks_backwards(f, size):
            cut = block.rfind(b"\n")
            if cut >= 0:
                return start + cut + 1
    return 0


def last_lines(path: Path, count: int) -> list[bytes]:
    """The last ``count`` complete lines of ``path`` (oldest first), reading only as much as needed."""
    if path.suffix == ".gz":  # a compressed archive has no random access: read it whole
        import gzip
        return [line for line in gzip.decompress(path.read_bytes()).split(b"\n") if line][-count:]
    size = complete_length(path)
    found: list[bytes] = []
    carry = b""
    with open(path, "rb") as f:
        for _start, block in _blocks_backwards(f, size):
            # The stretch read so far ends on a line boundary; its first part may begin in the
            # block before, so it is carried over (and kept only once the file's start is reached).
            parts = (block + carry).split(b"\n")
            carry = parts[0]
            found.extend(reversed([p for p in parts[1:] if p]))
            if len(found) >= count:
                break
        else:
            if carry:
                found.append(carry)
    del found[count:]
    found.reverse()
    return found
