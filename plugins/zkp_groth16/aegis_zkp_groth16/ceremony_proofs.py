"""The ceremony's cryptographic evidence: hash-to-G1 bases, proofs of knowledge, batched pairing claims.

A contributor proves knowledge of each secret ``x`` (BGM17-style) by publishing ``x·R`` in G1 and
``x·G2``, where ``R`` is hashed onto G1 from the transcript so far (nobody knows its discrete log and
the proof cannot be replayed elsewhere): ``e(x·R, G2) = e(R, x·G2)``. Every check of a transcript is a
claim ``e(a, b) = e(c, d)``; :class:`PairingClaims` checks them all as one random linear combination
(one Miller loop per distinct G2 point, one final exponentiation) and, only when that fails, one by
one to name the failing claim.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import final_exponentiate, pairing

from aegis_zkp_groth16.bn254 import (
    G1_GEN,
    G1_ZERO,
    G2_GEN,
    G2_ZERO,
    P,
    g1_add,
    g1_mul,
    g1_neg,
    g2_add,
    g2_mul,
    g2_neg,
)
from aegis_zkp_groth16.keygen import derive_scalar
from aegis_zkp_groth16.keys import G1, G2, _g1_bytes, _g2_bytes, norm_g1, norm_g2

HASH_TO_G1_DOMAIN = b"aegis-ceremony/hash-to-G1/v1"
MAX_BEACON_ITERATIONS_EXP = 32


def hash_to_g1(*parts: bytes) -> G1:
    """A G1 point from ``parts`` by try-and-increment (G1 has cofactor 1, so every curve point is in G1)."""
    seed = hashlib.sha256(HASH_TO_G1_DOMAIN + b"".join(len(p).to_bytes(4, "big") + p for p in parts)).digest()
    counter = 0
    while True:
        x = int.from_bytes(hashlib.sha256(seed + counter.to_bytes(4, "big")).digest(), "big") % P
        rhs = (x * x * x + 3) % P
        y = pow(rhs, (P + 1) // 4, P)  # P ≡ 3 (mod 4): the square root when one exists
        if y * y % P == rhs:
            return (x, min(y, P - y), 1)
        counter += 1


def knowledge_base(previous_hash: bytes, index: int, label: str) -> G1:
    """``R`` for the proof of knowledge of secret ``label`` in contribution ``index``."""
    return hash_to_g1(previous_hash, index.to_bytes(4, "big"), label.encode())


@dataclass(frozen=True)
class KnowledgeProof:
    """``x·R`` (G1) and ``x·G2`` for one secret ``x``."""

    label: str
    r_x: G1
    g2_x: G2


def prove_knowledge(previous_hash: bytes, index: int, label: str, secret: int) -> KnowledgeProof:
    base = knowledge_base(previous_hash, index, label)
    return KnowledgeProof(label, norm_g1(g1_mul(base, secret)), norm_g2(g2_mul(G2_GEN, secret)))


@dataclass
class Secrets:
    """One contribution's secrets by label; whoever keeps them could undo the contribution.

    Like :class:`~aegis_zkp_groth16.keygen.ToxicWaste` they live only here; :meth:`wipe` drops them.
    """

    values: dict[str, int]

    @classmethod
    def from_entropy(cls, labels: tuple[str, ...], extra: bytes = b"") -> Secrets:
        """64 bytes of OS randomness plus ``extra`` (typed operator input)."""
        seed = bytearray(os.urandom(64) + hashlib.sha512(extra).digest())
        try:
            return cls({label: derive_scalar(seed, label) for label in labels})
        finally:
            seed[:] = bytes(len(seed))

    @classmethod
    def from_beacon(cls, labels: tuple[str, ...], beacon_hex: str, iterations_exp: int) -> Secrets:
        """Public secrets from a random beacon: SHA-256 of its bytes iterated ``2^iterations_exp`` times."""
        seed = beacon_seed(beacon_hex, iterations_exp)
        return cls({label: derive_scalar(seed, f"beacon/{label}") for label in labels})

    def wipe(self) -> None:
        for label in self.values:
            self.values[label] = 0
        self.values.clear()


def beacon_seed(beacon_hex: str, iterations_exp: int) -> bytes:
    if not 0 <= iterations_exp <= MAX_BEACON_ITERATIONS_EXP:
        raise ValueError(f"beacon ITER must be between 0 and {MAX_BEACON_ITERATIONS_EXP}, got {iterations_exp}")
    try:
        h = bytes.fromhex(beacon_hex)
    except ValueError:
        raise ValueError(f"beacon HEX is not hexadecimal: {beacon_hex!r}") from None
    if not h:
        raise ValueError("beacon HEX is empty")
    for _ in range(1 << iterations_exp):
        h = hashlib.sha256(h).digest()
    return h


# -- pairing claims --------------------------------------------------------------------

def _miller(q: G2, p: G1) -> FQ12:
    p, q = norm_g1(p), norm_g2(q)
    if p[2] == 0 or q[2] == (0, 0):
        return FQ12.one()
    return pairing((FQ2(list(q[0])), FQ2(list(q[1])), FQ2([1, 0])), (FQ(p[0]), FQ(p[1]), FQ(1)),
                   final_exponentiate=False)


@dataclass
class Claim:
    group: str
    label: str
    pairs: list[tuple[G1, G2]]  # Π e(g1, g2) = 1


class PairingClaims:
    """Claims ``e(a, b) = e(c, d)``, each in a group (a contribution) with a label, checked together."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []

    def equal(self, group: str, label: str, a: G1, b: G2, c: G1, d: G2) -> None:
        self.claims.append(Claim(group, label, [(a, b), (g1_neg(c), d)]))

    def knowledge(self, group: str, label: str, base: G1, proof: KnowledgeProof) -> None:
        """``e(x·R, G2) = e(R, x·G2)``."""
        self.equal(group, label, proof.r_x, G2_GEN, base, proof.g2_x)

    def first_failure(self) -> str | None:
        """``"group: label"`` of a false claim, ``None`` when all hold (up to 2⁻¹²⁸).

        All claims share one final exponentiation; only after a failure are the groups, then the
        claims of the failing group, checked one by one.
        """
        if _holds(self.claims, randomise=True):
            return None
        for group in dict.fromkeys(c.group for c in self.claims):
            members = [c for c in self.claims if c.group == group]
            if _holds(members, randomise=True):
                continue
            for claim in members:
                if not _holds([claim], randomise=False):
                    return f"{group}: {claim.label}"
            return f"{group}: the combination of its pairing checks"
        return "the combined pairing check (no single group fails: rerun verify)"


def _holds(claims: list[Claim], randomise: bool) -> bool:
    """Π over claims of (Π e(g1, g2))^ρ = 1 with random 128-bit ρ.

    G1 sides are summed per G2 point, and pairs with ±G1 as their G1 side are summed on the G2 side,
    so the Miller loops number the distinct G2 points (plus one).
    """
    by_g2: dict[bytes, tuple[G2, G1]] = {}
    generator_side: G2 = G2_ZERO
    generator, minus_generator = _g1_bytes(G1_GEN), _g1_bytes(g1_neg(G1_GEN))
    for claim in claims:
        rho = secrets.randbits(128) | 1 if randomise else 1
        for p, q in claim.pairs:
            p_key = _g1_bytes(p)
            if p_key in (generator, minus_generator):
                q = q if p_key == generator else g2_neg(q)
                generator_side = g2_add(generator_side, g2_mul(q, rho) if rho != 1 else q)
                continue
            key = _g2_bytes(q)
            q0, acc = by_g2.get(key, (q, G1_ZERO))
            by_g2[key] = (q0, g1_add(acc, g1_mul(p, rho) if rho != 1 else p))
    f = _miller(generator_side, G1_GEN)
    for q, p in by_g2.values():
        f = f * _miller(q, p)
    return final_exponentiate(f) == FQ12.one()
