"""Groth16 keys and proofs as data, and their binary files (``proving_key.bin``, ``verification_key.bin``).

Points are Jacobian tuples normalised to ``Z = 1`` (infinity has ``Z = 0``). A file is
``MAGIC`` + 4-byte header length + JSON header + points, G1 as 64 bytes (x, y big-endian),
G2 as 128 bytes (x.c0, x.c1, y.c0, y.c1); infinity is all zero bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from aegis_zkp_groth16.bn254 import G1_ZERO, G2_ZERO, P, g1_affine, g1_on_curve, g2_affine, g2_on_curve

G1 = tuple[int, int, int]
G2 = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]

PK_MAGIC = b"AEGISPK1"
VK_MAGIC = b"AEGISVK1"


class KeyFileError(ValueError):
    """A key file is malformed, for another circuit, or holds a point off the curve."""


def norm_g1(p: G1) -> G1:
    a = g1_affine(p)
    return G1_ZERO if a is None else (a[0], a[1], 1)


def norm_g2(p: G2) -> G2:
    a = g2_affine(p)
    return G2_ZERO if a is None else (a[0], a[1], (1, 0))


@dataclass
class VerificationKey:
    n_public: int
    alpha1: G1
    beta2: G2
    gamma2: G2
    delta2: G2
    ic: list[G1]


@dataclass
class ProvingKey:
    circuit: str
    domain_size: int
    alpha1: G1
    beta1: G1
    beta2: G2
    delta1: G1
    delta2: G2
    a_query: list[G1]
    b1_query: list[G1]
    b2_query: list[G2]
    l_query: list[G1]
    h_query: list[G1]
    vk: VerificationKey


@dataclass
class Proof:
    a: G1
    b: G2
    c: G1


# -- encoding -------------------------------------------------------------------

def _g1_bytes(p: G1) -> bytes:
    a = g1_affine(p)
    return bytes(64) if a is None else a[0].to_bytes(32, "big") + a[1].to_bytes(32, "big")


def _g2_bytes(p: G2) -> bytes:
    a = g2_affine(p)
    if a is None:
        return bytes(128)
    (x0, x1), (y0, y1) = a
    return b"".join(v.to_bytes(32, "big") for v in (x0, x1, y0, y1))


class _Reader:
    def __init__(self, data: bytes, where: str):
        self.data, self.pos, self.where = data, 0, where

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise KeyFileError(f"{self.where}: file ends early at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def ints(self, k: int) -> list[int]:
        raw = self.take(32 * k)
        vals = [int.from_bytes(raw[i:i + 32], "big") for i in range(0, 32 * k, 32)]
        if any(v >= P for v in vals):
            raise KeyFileError(f"{self.where}: coordinate not in the base field near byte {self.pos}")
        return vals

    def g1(self) -> G1:
        x, y = self.ints(2)
        p = G1_ZERO if x == y == 0 else (x, y, 1)
        if not g1_on_curve(p):
            raise KeyFileError(f"{self.where}: G1 point not on the curve near byte {self.pos}")
        return p

    def g2(self) -> G2:
        x0, x1, y0, y1 = self.ints(4)
        p = G2_ZERO if x0 == x1 == y0 == y1 == 0 else ((x0, x1), (y0, y1), (1, 0))
        if not g2_on_curve(p):
            raise KeyFileError(f"{self.where}: G2 point not on the curve near byte {self.pos}")
        return p


def _header(magic: bytes, header: dict) -> bytes:
    raw = json.dumps(header, sort_keys=True).encode()
    return magic + struct.pack(">I", len(raw)) + raw


def _read_header(r: _Reader, magic: bytes) -> dict:
    if r.take(len(magic)) != magic:
        raise KeyFileError(f"{r.where}: not an Aegis {'proving' if magic == PK_MAGIC else 'verification'} key")
    (length,) = struct.unpack(">I", r.take(4))
    return json.loads(r.take(length))


def vk_to_bytes(vk: VerificationKey) -> bytes:
    out = [_header(VK_MAGIC, {"n_public": vk.n_public}), _g1_bytes(vk.alpha1),
           _g2_bytes(vk.beta2), _g2_bytes(vk.gamma2), _g2_bytes(vk.delta2)]
    out += [_g1_bytes(p) for p in vk.ic]
    return b"".join(out)


def _read_vk_body(r: _Reader, n_public: int) -> VerificationKey:
    return VerificationKey(n_public, r.g1(), r.g2(), r.g2(), r.g2(), [r.g1() for _ in range(n_public + 1)])


def vk_from_bytes(data: bytes, where: str = "verification key") -> VerificationKey:
    r = _Reader(data, where)
    header = _read_header(r, VK_MAGIC)
    vk = _read_vk_body(r, int(header["n_public"]))
    if r.pos != len(data):
        raise KeyFileError(f"{where}: {len(data) - r.pos} trailing bytes")
    return vk


def pk_to_bytes(pk: ProvingKey) -> bytes:
    header = {"circuit": pk.circuit, "domain_size": pk.domain_size, "n_public": pk.vk.n_public,
              "n_wires": len(pk.a_query), "n_l": len(pk.l_query), "n_h": len(pk.h_query)}
    out = [_header(PK_MAGIC, header)]
    out += [_g1_bytes(p) for p in (pk.alpha1, pk.beta1)] + [_g2_bytes(pk.beta2)]
    out += [_g1_bytes(pk.delta1), _g2_bytes(pk.delta2)]
    out += [_g1_bytes(p) for p in pk.a_query] + [_g1_bytes(p) for p in pk.b1_query]
    out += [_g2_bytes(p) for p in pk.b2_query]
    out += [_g1_bytes(p) for p in pk.l_query] + [_g1_bytes(p) for p in pk.h_query]
    out.append(vk_to_bytes(pk.vk))
    return b"".join(out)


def pk_from_bytes(data: bytes, where: str = "proving key") -> ProvingKey:
    r = _Reader(data, where)
    h = _read_header(r, PK_MAGIC)
    m, n_l, n_h = int(h["n_wires"]), int(h["n_l"]), int(h["n_h"])
    alpha1, beta1, beta2, delta1, delta2 = r.g1(), r.g1(), r.g2(), r.g1(), r.g2()
    a_q = [r.g1() for _ in range(m)]
    b1_q = [r.g1() for _ in range(m)]
    b2_q = [r.g2() for _ in range(m)]
    l_q = [r.g1() for _ in range(n_l)]
    h_q = [r.g1() for _ in range(n_h)]
    _read_header(r, VK_MAGIC)
    vk = _read_vk_body(r, int(h["n_public"]))
    if r.pos != len(data):
        raise KeyFileError(f"{where}: {len(data) - r.pos} trailing bytes")
    return ProvingKey(h["circuit"], int(h["domain_size"]), alpha1, beta1, beta2, delta1, delta2,
                      a_q, b1_q, b2_q, l_q, h_q, vk)


def save(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
