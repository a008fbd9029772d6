"""Where each kind of object lives under the sink's prefix, and how keys sort.

Records: ``<prefix>/records/<first seq:012d>.jsonl``, one object per written batch;
checkpoints: ``<prefix>/checkpoints/<to_seq:012d>.json``; dead letters:
``<prefix>/dead-letters/<UTC time>-<random>.jsonl``. Sequence numbers are zero-padded to a fixed
width, so S3's lexicographic listing returns records and checkpoints in chain order.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

SEQ_DIGITS = 12
MAX_SEQ = 10**SEQ_DIGITS - 1


@dataclass(frozen=True)
class SeqFolder:
    """Keys named by a chain sequence number inside one folder: ``<folder>/<seq:012d><suffix>``."""

    folder: str  # ends with "/"
    suffix: str

    def key(self, seq: int) -> str:
        if not 0 <= seq <= MAX_SEQ:
            raise ValueError(f"sequence number {seq} does not fit the {SEQ_DIGITS}-digit key layout")
        return f"{self.folder}{seq:0{SEQ_DIGITS}d}{self.suffix}"

    def seq(self, key: str) -> int:
        name = key[len(self.folder):]
        if not key.startswith(self.folder) or not re.fullmatch(rf"\d{{{SEQ_DIGITS}}}{re.escape(self.suffix)}", name):
            raise ValueError(f"object {key!r} does not belong in {self.folder!r}: expected "
                             f"{self.folder}<{SEQ_DIGITS} digits>{self.suffix} (written by something else?)")
        return int(name[:SEQ_DIGITS])


class Layout:
    """The key layout of one sink (bucket prefix)."""

    def __init__(self, prefix: str):
        root = f"{prefix}/" if prefix else ""
        self.records = SeqFolder(f"{root}records/", ".jsonl")
        self.checkpoints = SeqFolder(f"{root}checkpoints/", ".json")
        self.dead_letters = f"{root}dead-letters/"
        self.self_test = f"{root}self-test/"

    def dead_letter_key(self, now: datetime) -> str:
        """A new dead-letter object's key: sorts by time received; random part against collisions."""
        return f"{self.dead_letters}{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(6)}.jsonl"

    def self_test_key(self) -> str:
        return f"{self.self_test}{secrets.token_hex(8)}.probe"
