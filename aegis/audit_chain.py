"""Tamper evidence for audit records: a hash chain per sink, Merkle roots, signed checkpoints.

Every stored record line ends with a ``chain`` member::

    {... the decision record ..., "chain": {"seq": 42, "prev": "<hex>", "hash": "<hex>"}}

``hash = sha256(prev || "\\n" || body)`` where ``body`` is the line without its chain member
(the bytes before ``,"chain":`` plus the closing brace). ``seq`` counts records from 1 in the
order the sink stored them. Every N records or T seconds the kernel seals the records since the
previous checkpoint: a checkpoint holds the Merkle root (RFC 6962 hashing) of their record hashes,
the chain head, the previous checkpoint's hash, and a signature by the secrets plugin. A verifier
needs the records, the checkpoints and the public key — nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import InitVar, dataclass, field
from typing import NamedTuple

import numpy as np
import orjson

from aegis.chain_kernels import LINE_OVERHEAD, chain_lines, merkle_extend

GENESIS = "0" * 64
#: ``type`` of a retention marker: records up to a checkpoint were deleted under a retention policy.
RETENTION = "aegis.audit.retention"
CHAIN_MARKER = b',"chain":{'
_HEX_DIGEST = re.compile(".{64}")  # cuts hex digests written one after the other (faster than slicing in a loop)


_UETR_PREFIX = b'{"uetr":"'
_UETR_END = len(_UETR_PREFIX) + 36


def record_uetr(line: bytes) -> str | None:
    """The ``uetr`` of a record line: sliced when the line starts with it (as the kernel renders
    records), parsed with orjson otherwise; ``None`` for a line that is no record."""
    if line.startswith(_UETR_PREFIX) and line[_UETR_END:_UETR_END + 1] == b'"':
        return line[len(_UETR_PREFIX):_UETR_END].decode("ascii", "replace")
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    uetr = record.get("uetr") if isinstance(record, dict) else None
    return uetr if isinstance(uetr, str) else None


def record_hash(prev: str, body: bytes) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + body).hexdigest()


def split_line(line: bytes) -> tuple[bytes, dict]:
    """A stored line → (body without the chain member, the chain member). Raises ValueError."""
    cut = line.rfind(CHAIN_MARKER)
    if cut < 0 or not line.endswith(b"}}"):
        raise ValueError("record has no chain member")
    chain = orjson.loads(line[cut + len(CHAIN_MARKER) - 1:-1])
    return line[:cut] + b"}", chain


# -- Merkle tree (RFC 6962: leaves and nodes hashed with distinct prefixes) -------------------


def _leaf(h: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + h).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two smaller than n (RFC 6962 tree shape)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(hashes: Sequence[str]) -> str:
    """Root over record hashes (hex); the empty tree's root is sha256 of nothing."""
    if not hashes:
        return hashlib.sha256(b"").hexdigest()
    # Bottom-up, carrying an odd last node up unchanged: the same tree as RFC 6962's
    # largest-power-of-two split, without recursion or list slicing.
    level = [_leaf(bytes.fromhex(h)) for h in hashes]
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def _root(nodes: list[bytes]) -> bytes:
    if len(nodes) == 1:
        return nodes[0]
    k = _split(len(nodes))
    return _node(_root(nodes[:k]), _root(nodes[k:]))


class MerkleAccumulator:
    """The RFC 6962 root of a growing list of record hashes, maintained as they are appended.

    Keeps the roots of the perfect subtrees that make up the leaves so far (sizes = the binary
    digits of the count, largest first, in the first rows of ``roots``); an append merges as many as
    the count has trailing one bits, one node hash per leaf amortised (compiled:
    :func:`~aegis.chain_kernels.merkle_extend`, or while chaining, :meth:`Chain.extend`). Sealing then
    folds a few subtree roots instead of hashing every leaf again, so checkpoints cost the same
    whenever they fall (no pause of the write path). Equals :func:`merkle_root` of the same hashes.
    """

    def __init__(self, hashes: Sequence[str] = ()) -> None:
        self.count = 0
        self.roots = np.empty((64, 32), dtype=np.uint8)  # a count has at most 64 one bits
        self.extend([bytes.fromhex(h) for h in hashes])

    def add(self, digest: bytes) -> None:
        """Append one record hash (its 32 raw bytes)."""
        self.extend([digest])

    def extend(self, digests: Sequence[bytes] | np.ndarray) -> None:
        """Append record hashes (raw bytes, or an ``(n, 32)`` uint8 array)."""
        if not isinstance(digests, np.ndarray):
            digests = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32)
        self.count = merkle_extend(self.roots, self.count, digests)

    def root(self) -> str:
        if not self.count:
            return hashlib.sha256(b"").hexdigest()
        roots = [row.tobytes() for row in self.roots[:self.count.bit_count()]]
        node = roots[-1]
        for left in reversed(roots[:-1]):  # RFC 6962 splits off the largest power of two first
            node = _node(left, node)
        return node.hex()


def inclusion_proof(hashes: Sequence[str], index: int) -> list[str]:
    """Audit path for leaf ``index`` (hex sibling hashes, from the leaf up)."""
    nodes = [_leaf(bytes.fromhex(h)) for h in hashes]
    path: list[bytes] = []

    def walk(part: list[bytes], i: int) -> None:
        if len(part) == 1:
            return
        k = _split(len(part))
        if i < k:
            walk(part[:k], i)
            path.append(_root(part[k:]))
        else:
            walk(part[k:], i - k)
            path.append(_root(part[:k]))

    walk(nodes, index)
    return [p.hex() for p in path]


def verify_inclusion(leaf_hash: str, index: int, size: int, path: Sequence[str], root: str) -> bool:
    """Check an RFC 6962 audit path for leaf ``index`` of a tree of ``size`` leaves."""
    def climb(i: int, n: int, steps: list[bytes], node: bytes) -> bytes | None:
        if n == 1:
            return node if not steps else None
        if not steps:
            return None
        k = _split(n)
        if i < k:
            inner = climb(i, k, steps[:-1], node)
            return None if inner is None else _node(inner, steps[-1])
        inner = climb(i - k, n - k, steps[:-1], node)
        return None if inner is None else _node(steps[-1], inner)

    if not 0 <= index < size:
        return False
    result = climb(index, size, [bytes.fromhex(p) for p in path], _leaf(bytes.fromhex(leaf_hash)))
    return result is not None and result.hex() == root


# -- checkpoints ------------------------------------------------------------------------------


def checkpoint_payload(checkpoint: dict) -> bytes:
    """The bytes a checkpoint's signature covers: its canonical JSON without ``signature``."""
    return orjson.dumps({k: v for k, v in checkpoint.items() if k != "signature"}, option=orjson.OPT_SORT_KEYS)


def checkpoint_hash(checkpoint: dict) -> str:
    return hashlib.sha256(checkpoint_payload(checkpoint) + b"\n" + checkpoint["signature"].encode()).hexdigest()


class ChainedRecord(NamedTuple):
    """One record as a sink stores it (a tuple: built once per record on the hot path)."""

    uetr: str
    seq: int
    hash: str
    decision: str
    line: bytes


class ChainedRecords(Sequence[ChainedRecord]):
    """A batch's chained records, kept as columns: ``text`` holds every stored line, each followed
    by a newline (a sink may write it whole), ``ends`` where each line ends in it. Indexing or
    iterating gives :class:`ChainedRecord` tuples."""

    __slots__ = ("_lines", "decisions", "ends", "hashes", "seqs", "text", "uetrs")

    def __init__(self, uetrs: list[str], seqs: range, hashes: list[str], decisions: list[str], text: bytes,
                 ends: list[int]) -> None:
        if not len(uetrs) == len(seqs) == len(hashes) == len(decisions) == len(ends):
            raise ValueError("chained records: columns of different lengths")
        self.uetrs, self.seqs, self.hashes, self.decisions, self.text, self.ends = (
            uetrs, seqs, hashes, decisions, text, ends)
        self._lines: list[bytes] | None = None

    @property
    def lines(self) -> list[bytes]:
        """Each stored line (without its newline)."""
        if self._lines is None:
            text, ends = self.text, self.ends
            starts = [0, *(end + 1 for end in ends)][:len(ends)]  # each line starts after the previous newline
            self._lines = [text[start:end] for start, end in zip(starts, ends, strict=True)]
        return self._lines

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int | slice) -> ChainedRecord | list[ChainedRecord]:  # type: ignore[override]
        if isinstance(i, slice):
            return list(map(ChainedRecord, self.uetrs[i], self.seqs[i], self.hashes[i], self.decisions[i],
                            self.lines[i]))
        return ChainedRecord(self.uetrs[i], self.seqs[i], self.hashes[i], self.decisions[i], self.lines[i])

    def __iter__(self) -> Iterator[ChainedRecord]:
        return map(ChainedRecord, self.uetrs, self.seqs, self.hashes, self.decisions, self.lines)


def record_text(records: Sequence[ChainedRecord]) -> bytes:
    """The stored lines of ``records``, each followed by a newline (whole from a :class:`ChainedRecords`)."""
    if isinstance(records, ChainedRecords):
        return records.text
    return b"".join(r.line + b"\n" for r in records)


def record_uetrs(records: Sequence[ChainedRecord]) -> list[str]:
    """The UETRs of ``records`` (taken whole from a :class:`ChainedRecords`)."""
    return records.uetrs if isinstance(records, ChainedRecords) else [r.uetr for r in records]


@dataclass
class ChainHead:
    """Where a sink's chain stands: last record and last checkpoint."""

    seq: int = 0
    hash: str = GENESIS
    checkpoint_seq: int = 0
    checkpoint_hash: str = GENESIS


@dataclass
class Chain:
    """The running chain of one sink: appends records, and seals them into checkpoints."""

    head: ChainHead = field(default_factory=ChainHead)
    #: hashes of the records after the last checkpoint, when reopening a chain (only their tree is kept)
    pending: InitVar[Sequence[str]] = ()
    opened_at: float = field(default_factory=time.monotonic)
    #: records chained since the last checkpoint. A count, not their hashes: the tree holds all a
    #: seal needs, and a list of 10,000 hash strings would all be freed at once by the seal (a pause)
    unsealed: int = field(init=False)
    tree: MerkleAccumulator = field(init=False, repr=False)  # the Merkle root of the unsealed hashes, kept current

    def __post_init__(self, pending: Sequence[str]) -> None:
        self.tree = MerkleAccumulator(pending)
        self.unsealed = len(pending)

    def extend(self, uetrs: Sequence[str], decisions: Sequence[str], bodies: Sequence[bytes]) -> ChainedRecords:
        """Chain ``bodies`` (record JSON without the chain member) onto the head, in order."""
        n = len(bodies)
        if not len(uetrs) == len(decisions) == n:
            raise ValueError(f"chain: {len(uetrs)} uetrs, {len(decisions)} decisions, {n} bodies")
        blob = b"".join(bodies)
        lengths = np.fromiter(map(len, bodies), dtype=np.int64, count=n)
        out = np.empty(len(blob) + n * LINE_OVERHEAD, dtype=np.uint8)
        line_ends = np.empty(n, dtype=np.int64)
        hexes = np.empty((n, 64), dtype=np.uint8)
        head = np.frombuffer(self.head.hash.encode("ascii"), dtype=np.uint8)
        first, tree = self.head.seq + 1, self.tree
        size = chain_lines(np.frombuffer(blob, dtype=np.uint8), lengths, head, first, out, line_ends, hexes,
                           tree.roots, tree.count)  # also appends the hashes to the Merkle tree
        tree.count += n
        hashes = _HEX_DIGEST.findall(hexes.tobytes().decode("ascii"))
        records = ChainedRecords(list(uetrs), range(first, first + n), hashes, list(decisions),
                                 out[:size].tobytes(), line_ends.tolist())
        self.unsealed += n
        if n:
            self.head.seq, self.head.hash = first + n - 1, hashes[-1]
        return records

    def due(self, every_records: int, every_seconds: float) -> bool:
        return self.unsealed > 0 and (self.unsealed >= every_records
                                      or time.monotonic() - self.opened_at >= every_seconds)

    def seal(self, sink: str, deployment: str, key: str, sign, timestamp: str) -> dict:
        """A signed checkpoint over the pending records; the chain then starts a new interval."""
        checkpoint = {
            "type": "aegis.audit.checkpoint", "version": 1, "deployment": deployment, "sink": sink,
            "from_seq": self.head.seq - self.unsealed + 1, "to_seq": self.head.seq,
            "merkle_root": self.tree.root(), "chain_head": self.head.hash,
            "prev_checkpoint": self.head.checkpoint_hash, "timestamp": timestamp, "key": key,
        }
        checkpoint["signature"] = base64.b64encode(sign(checkpoint_payload(checkpoint))).decode()
        self.head.checkpoint_seq = self.head.seq
        self.head.checkpoint_hash = checkpoint_hash(checkpoint)
        self.unsealed = 0
        self.tree = MerkleAccumulator()
        self.opened_at = time.monotonic()
        return checkpoint
