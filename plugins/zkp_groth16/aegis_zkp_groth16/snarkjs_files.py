"""iden3 binary files snarkjs reads: ``.r1cs`` (constraints) and ``.wtns`` (witness).

Both hold field elements as 32-byte little-endian integers in normal (not Montgomery) form.
With them snarkjs can run its own set-up and prover on the Aegis statement.
"""

from __future__ import annotations

import struct
from pathlib import Path

from aegis_zkp_groth16.bn254 import R
from aegis_zkp_groth16.r1cs import R1CS, Terms


def _fe(v: int) -> bytes:
    return (v % R).to_bytes(32, "little")


def _section(kind: int, body: bytes) -> bytes:
    return struct.pack("<IQ", kind, len(body)) + body


def r1cs_bytes(r1cs: R1CS) -> bytes:
    """The ``.r1cs`` encoding (version 1: header, constraints, wire-to-label map)."""
    header = (struct.pack("<I", 32) + R.to_bytes(32, "little")
              + struct.pack("<IIIIQI", r1cs.n_wires, 0, r1cs.n_public, r1cs.n_private_inputs,
                            r1cs.n_wires, len(r1cs.constraints)))

    def lc(terms: Terms) -> bytes:
        items = sorted(terms.items())
        return struct.pack("<I", len(items)) + b"".join(struct.pack("<I", w) + _fe(c) for w, c in items)

    constraints = b"".join(lc(a) + lc(b) + lc(c) for a, b, c in r1cs.constraints)
    labels = b"".join(struct.pack("<Q", i) for i in range(r1cs.n_wires))
    return (b"r1cs" + struct.pack("<II", 1, 3) + _section(1, header) + _section(2, constraints)
            + _section(3, labels))


def wtns_bytes(witness: list[int]) -> bytes:
    """The ``.wtns`` encoding (version 2)."""
    header = struct.pack("<I", 32) + R.to_bytes(32, "little") + struct.pack("<I", len(witness))
    return (b"wtns" + struct.pack("<II", 2, 2) + _section(1, header)
            + _section(2, b"".join(_fe(v) for v in witness)))


def write_r1cs(path: Path, r1cs: R1CS) -> None:
    path.write_bytes(r1cs_bytes(r1cs))


def write_wtns(path: Path, witness: list[int]) -> None:
    path.write_bytes(wtns_bytes(witness))
