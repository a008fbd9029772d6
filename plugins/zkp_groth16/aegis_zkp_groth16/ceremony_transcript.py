"""The ceremony transcript: current state plus every contribution, its file format and its hash chain.

File: ``MAGIC`` + 4-byte length + JSON header (circuit, domain size, the contribution records) + points,
in :mod:`keys`' encoding (G1 64 bytes, G2 128 bytes, big-endian affine). Points: per record its proofs of
knowledge (``x·R``, ``x·G2``) and its *after* points (phase 1: τ·G1, τ·G2, α·G1, β·G1, β·G2; phase 2:
δ·G1, δ·G2), then the phase-1 powers, then (once prepared) the phase-2 proving key as ``proving_key.bin``.

A record's hash is SHA-256 over the previous hash, its public data (index, phase, kind, name, beacon,
proofs, after points) and the digest of the state it produced, so the hash a contributor writes down
commits to everything before it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from aegis_zkp_groth16.bn254 import G1_GEN, G2_GEN
from aegis_zkp_groth16.ceremony_proofs import KnowledgeProof
from aegis_zkp_groth16.keys import (
    G1,
    G2,
    KeyFileError,
    ProvingKey,
    _g1_bytes,
    _g2_bytes,
    _Reader,
    pk_from_bytes,
    pk_to_bytes,
    save,
)

MAGIC = b"AEGISCT1"
VERSION = 1
GENESIS_DOMAIN = b"aegis-ceremony/v1"
PHASE1_LABELS = ("tau", "alpha", "beta")
PHASE2_LABELS = ("delta",)
PHASE1_AFTER = ("tau_g1", "tau_g2", "alpha_g1", "beta_g1", "beta_g2")
PHASE2_AFTER = ("delta_g1", "delta_g2")
KINDS = ("contribution", "beacon", "prepare")


class TranscriptError(ValueError):
    """A transcript file is malformed or not for this circuit."""


@dataclass(frozen=True)
class Beacon:
    hex: str
    iterations_exp: int


@dataclass
class Record:
    """One link of the chain: a contribution, a beacon, or the deterministic ``prepare`` step."""

    index: int
    phase: int
    kind: str
    name: str
    beacon: Beacon | None
    proofs: list[KnowledgeProof]
    after: dict[str, G1 | G2]
    state_digest: str
    hash: str = ""

    def title(self) -> str:
        return f"#{self.index} {self.name!r}"

    def meta(self) -> dict:
        return {"index": self.index, "phase": self.phase, "kind": self.kind, "name": self.name,
                "beacon": None if self.beacon is None else {"hex": self.beacon.hex,
                                                            "iterations_exp": self.beacon.iterations_exp}}

    def point_bytes(self) -> bytes:
        out = [_g1_bytes(p.r_x) + _g2_bytes(p.g2_x) for p in self.proofs]
        out += [_g2_bytes(self.after[k]) if k.endswith("g2") else _g1_bytes(self.after[k])  # type: ignore[arg-type]
                for k in after_names(self.phase, self.kind)]
        return b"".join(out)

    def compute_hash(self, previous: str) -> str:
        h = hashlib.sha256(bytes.fromhex(previous))
        h.update(json.dumps(self.meta(), sort_keys=True).encode())
        h.update(self.point_bytes())
        h.update(bytes.fromhex(self.state_digest))
        return h.hexdigest()


def labels(phase: int, kind: str) -> tuple[str, ...]:
    return () if kind == "prepare" else PHASE1_LABELS if phase == 1 else PHASE2_LABELS


def after_names(phase: int, kind: str) -> tuple[str, ...]:
    return () if kind == "prepare" else PHASE1_AFTER if phase == 1 else PHASE2_AFTER


@dataclass
class Phase1State:
    """Powers of τ: τⁱ·G1 (i < 2n−1), τⁱ·G2, α·τⁱ·G1, β·τⁱ·G1 (i < n), and β·G2."""

    tau_g1: list[G1]
    tau_g2: list[G2]
    alpha_g1: list[G1]
    beta_g1: list[G1]
    beta_g2: G2

    @classmethod
    def identity(cls, n: int) -> Phase1State:
        """Every secret equal to one: all generators."""
        return cls([G1_GEN] * (2 * n - 1), [G2_GEN] * n, [G1_GEN] * n, [G1_GEN] * n, G2_GEN)

    def to_bytes(self) -> bytes:
        return b"".join([*map(_g1_bytes, self.tau_g1), *map(_g2_bytes, self.tau_g2), *map(_g1_bytes, self.alpha_g1),
                         *map(_g1_bytes, self.beta_g1), _g2_bytes(self.beta_g2)])

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def first_powers(self) -> dict[str, G1 | G2]:
        """The points a phase-1 record's ``after`` must match."""
        return {"tau_g1": self.tau_g1[1], "tau_g2": self.tau_g2[1], "alpha_g1": self.alpha_g1[0],
                "beta_g1": self.beta_g1[0], "beta_g2": self.beta_g2}


def phase2_digest(pk: ProvingKey) -> str:
    return hashlib.sha256(pk_to_bytes(pk)).hexdigest()


@dataclass
class Transcript:
    circuit: str
    domain_size: int
    phase1: Phase1State
    phase2: ProvingKey | None = None
    records: list[Record] = field(default_factory=list)

    @property
    def phase(self) -> int:
        return 1 if self.phase2 is None else 2

    def genesis_hash(self) -> str:
        return hashlib.sha256(GENESIS_DOMAIN + self.circuit.encode()
                              + self.domain_size.to_bytes(8, "big")).hexdigest()

    def head_hash(self) -> str:
        return self.records[-1].hash if self.records else self.genesis_hash()

    def state_digest(self) -> str:
        return self.phase1.digest() if self.phase2 is None else phase2_digest(self.phase2)

    def append(self, record: Record) -> Record:
        record.hash = record.compute_hash(self.head_hash())
        self.records.append(record)
        return record

    # -- file ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        pk_bytes = b"" if self.phase2 is None else pk_to_bytes(self.phase2)
        header = {"version": VERSION, "circuit": self.circuit, "domain_size": self.domain_size,
                  "records": [{**r.meta(), "state_digest": r.state_digest, "hash": r.hash} for r in self.records],
                  "phase2_bytes": len(pk_bytes)}
        raw = json.dumps(header, sort_keys=True).encode()
        body = [r.point_bytes() for r in self.records]
        return b"".join([MAGIC, struct.pack(">I", len(raw)), raw, *body, self.phase1.to_bytes(), pk_bytes])

    def save(self, path: Path) -> None:
        save(path, self.to_bytes())


def load(path: Path) -> Transcript:
    """Read a transcript; structural problems raise :class:`TranscriptError` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read the transcript ({exc.strerror})") from None
    try:
        return from_bytes(data, str(path))
    except TranscriptError:
        raise
    except KeyFileError as exc:
        raise TranscriptError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptError(f"{path}: malformed transcript header ({exc})") from None


def from_bytes(data: bytes, where: str) -> Transcript:
    if not data.startswith(MAGIC):
        raise TranscriptError(f"{where}: not an Aegis ceremony transcript (it does not start with {MAGIC.decode()})")
    r = _Reader(data, where)
    r.take(len(MAGIC))
    (length,) = struct.unpack(">I", r.take(4))
    header = json.loads(r.take(length))
    if header.get("version") != VERSION:
        raise TranscriptError(f"{where}: transcript version {header.get('version')}, this Aegis reads {VERSION}")
    n = int(header["domain_size"])
    records = []
    for meta in header["records"]:
        phase, kind = int(meta["phase"]), str(meta["kind"])
        if phase not in (1, 2) or kind not in KINDS:
            raise TranscriptError(f"{where}: record #{meta.get('index')} has phase {phase!r}, kind {kind!r}")
        proofs = [KnowledgeProof(label, r.g1(), r.g2()) for label in labels(phase, kind)]
        after = {k: r.g2() if k.endswith("g2") else r.g1() for k in after_names(phase, kind)}
        b = meta["beacon"]
        beacon = None if b is None else Beacon(str(b["hex"]), int(b["iterations_exp"]))
        records.append(Record(int(meta["index"]), phase, kind, str(meta["name"]), beacon, proofs, after,
                              str(meta["state_digest"]), str(meta["hash"])))
    phase1 = Phase1State([r.g1() for _ in range(2 * n - 1)], [r.g2() for _ in range(n)],
                         [r.g1() for _ in range(n)], [r.g1() for _ in range(n)], r.g2())
    pk_len = int(header["phase2_bytes"])
    phase2 = pk_from_bytes(r.take(pk_len), f"{where} (phase-2 key)") if pk_len else None
    if r.pos != len(data):
        raise TranscriptError(f"{where}: {len(data) - r.pos} trailing bytes")
    return Transcript(str(header["circuit"]), n, phase1, phase2, records)
