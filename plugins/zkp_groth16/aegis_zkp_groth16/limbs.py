"""254-bit prime-field arithmetic for numba: 8×32-bit Montgomery limbs held in uint64.

A field element is a uint64 array whose first 8 entries are little-endian 32-bit limbs (entries
beyond the 8th are ignored, so rows of a 10-wide scratch array serve as temporaries). Values are
kept fully reduced below the modulus ``m``. ``mont_mul`` is CIOS Montgomery multiplication
(``a·b·2⁻²⁵⁶ mod m``), unrolled by hand so the accumulator lives in registers (about 2× the looped
form: numba cannot prove that array operands do not alias).
Every function reads all of its inputs before it writes ``out``, so ``out`` may alias an input.
The Python-side helpers convert between ints and limb arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from aegis_zkp_groth16.bn254 import P, R

LIMBS = 8
MASK = np.uint64(0xFFFFFFFF)
SHIFT = np.uint64(32)
MONT = 1 << 256


def _n0(m: int) -> int:
    return (-pow(m, -1, 1 << 32)) % (1 << 32)


P_N0 = np.uint64(_n0(P))
R_N0 = np.uint64(_n0(R))


# -- Python side: ints <-> limb arrays -----------------------------------------

def to_limbs(values: Sequence[int]) -> np.ndarray:
    """``(len(values), 8)`` uint64 limbs of non-negative ints below 2^256 (no Montgomery form)."""
    buf = b"".join(v.to_bytes(32, "little") for v in values)
    return np.frombuffer(buf, dtype="<u4").reshape(-1, LIMBS).astype(np.uint64)


def from_limbs(limbs: np.ndarray) -> list[int]:
    """The ints of a ``(..., 8)`` limb array, flattened in row order."""
    buf = np.ascontiguousarray(limbs, dtype=np.uint64)[..., :LIMBS].astype("<u4").tobytes()
    return [int.from_bytes(buf[i:i + 32], "little") for i in range(0, len(buf), 32)]


def to_mont(values: Sequence[int], m: int) -> np.ndarray:
    """Montgomery-form limbs ``v·2^256 mod m`` of ``values``."""
    return to_limbs([v * MONT % m for v in values])


def from_mont(limbs: np.ndarray, m: int) -> list[int]:
    """Plain ints ``v·2^-256 mod m`` of Montgomery-form limbs."""
    inv = pow(MONT, -1, m)
    return [v * inv % m for v in from_limbs(limbs)]


MODULUS_P = to_limbs([P])[0]
MODULUS_R = to_limbs([R])[0]
ONE_P = to_mont([1], P)[0]


# -- numba kernels ---------------------------------------------------------------

@njit(cache=True, _nrt=False)
def is_zero(a: np.ndarray) -> bool:
    for j in range(8):
        if a[j] != 0:
            return False
    return True


@njit(cache=True, _nrt=False)
def equal(a: np.ndarray, b: np.ndarray) -> bool:
    for j in range(8):
        if a[j] != b[j]:
            return False
    return True


@njit(cache=True, _nrt=False)
def copy(out: np.ndarray, a: np.ndarray) -> None:
    for j in range(8):
        out[j] = a[j]


@njit(cache=True, _nrt=False)
def _geq(a: np.ndarray, m: np.ndarray) -> bool:
    for j in range(7, -1, -1):
        if a[j] != m[j]:
            return a[j] > m[j]
    return True


@njit(cache=True, _nrt=False)
def _sub_raw(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.uint64:
    """``out = a − b`` over 256 bits; returns the borrow (0 or 1)."""
    borrow = np.uint64(0)
    for j in range(8):
        bj = b[j] + borrow
        aj = a[j]
        if aj >= bj:
            out[j] = aj - bj
            borrow = np.uint64(0)
        else:
            out[j] = aj + (np.uint64(1) << SHIFT) - bj
            borrow = np.uint64(1)
    return borrow


@njit(cache=True, _nrt=False)
def add_mod(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray) -> None:
    """``out = a + b mod m`` (inputs below m < 2^255, so the sum never leaves 256 bits); unrolled."""
    a0, a1, a2, a3, a4, a5, a6, a7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    b0, b1, b2, b3, b4, b5, b6, b7 = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    s = a0 + b0
    r0 = s & MASK
    s = a1 + b1 + (s >> SHIFT)
    r1 = s & MASK
    s = a2 + b2 + (s >> SHIFT)
    r2 = s & MASK
    s = a3 + b3 + (s >> SHIFT)
    r3 = s & MASK
    s = a4 + b4 + (s >> SHIFT)
    r4 = s & MASK
    s = a5 + b5 + (s >> SHIFT)
    r5 = s & MASK
    s = a6 + b6 + (s >> SHIFT)
    r6 = s & MASK
    s = a7 + b7 + (s >> SHIFT)
    r7 = s & MASK
    m0, m1, m2, m3, m4, m5, m6, m7 = m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
    geq = True
    if r7 != m7:
        geq = r7 > m7
    elif r6 != m6:
        geq = r6 > m6
    elif r5 != m5:
        geq = r5 > m5
    elif r4 != m4:
        geq = r4 > m4
    elif r3 != m3:
        geq = r3 > m3
    elif r2 != m2:
        geq = r2 > m2
    elif r1 != m1:
        geq = r1 > m1
    elif r0 != m0:
        geq = r0 > m0
    if geq:
        s = r0 - m0 + (np.uint64(1) << SHIFT)
        r0 = s & MASK
        s = r1 - m1 + (s >> SHIFT) + MASK
        r1 = s & MASK
        s = r2 - m2 + (s >> SHIFT) + MASK
        r2 = s & MASK
        s = r3 - m3 + (s >> SHIFT) + MASK
        r3 = s & MASK
        s = r4 - m4 + (s >> SHIFT) + MASK
        r4 = s & MASK
        s = r5 - m5 + (s >> SHIFT) + MASK
        r5 = s & MASK
        s = r6 - m6 + (s >> SHIFT) + MASK
        r6 = s & MASK
        s = r7 - m7 + (s >> SHIFT) + MASK
        r7 = s & MASK
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = r0, r1, r2, r3, r4, r5, r6, r7


@njit(cache=True, _nrt=False)
def sub_mod(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray) -> None:
    """``out = a − b mod m``; unrolled (each limb offset by 2^32 so the borrow is a carry)."""
    a0, a1, a2, a3, a4, a5, a6, a7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    b0, b1, b2, b3, b4, b5, b6, b7 = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    s = a0 - b0 + (np.uint64(1) << SHIFT)
    r0 = s & MASK
    s = a1 - b1 + (s >> SHIFT) + MASK
    r1 = s & MASK
    s = a2 - b2 + (s >> SHIFT) + MASK
    r2 = s & MASK
    s = a3 - b3 + (s >> SHIFT) + MASK
    r3 = s & MASK
    s = a4 - b4 + (s >> SHIFT) + MASK
    r4 = s & MASK
    s = a5 - b5 + (s >> SHIFT) + MASK
    r5 = s & MASK
    s = a6 - b6 + (s >> SHIFT) + MASK
    r6 = s & MASK
    s = a7 - b7 + (s >> SHIFT) + MASK
    r7 = s & MASK
    if (s >> SHIFT) == 0:
        m0, m1, m2, m3, m4, m5, m6, m7 = m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
        s = r0 + m0
        r0 = s & MASK
        s = r1 + m1 + (s >> SHIFT)
        r1 = s & MASK
        s = r2 + m2 + (s >> SHIFT)
        r2 = s & MASK
        s = r3 + m3 + (s >> SHIFT)
        r3 = s & MASK
        s = r4 + m4 + (s >> SHIFT)
        r4 = s & MASK
        s = r5 + m5 + (s >> SHIFT)
        r5 = s & MASK
        s = r6 + m6 + (s >> SHIFT)
        r6 = s & MASK
        s = r7 + m7 + (s >> SHIFT)
        r7 = s & MASK
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = r0, r1, r2, r3, r4, r5, r6, r7


@njit(cache=True, _nrt=False)
def mont_mul(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray, n0: np.uint64) -> None:
    """``out = a·b·2^-256 mod m``: CIOS, unrolled so the accumulator stays in registers."""
    a0, a1, a2, a3, a4, a5, a6, a7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    m0, m1, m2, m3, m4, m5, m6, m7 = m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
    b0, b1, b2, b3, b4, b5, b6, b7 = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    z = np.uint64(0)
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = t8 = z
    # limb 0 of b
    s = t0 + a0 * b0
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b0 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b0 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b0 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b0 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b0 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b0 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b0 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 1 of b
    s = t0 + a0 * b1
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b1 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b1 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b1 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b1 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b1 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b1 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b1 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 2 of b
    s = t0 + a0 * b2
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b2 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b2 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b2 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b2 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b2 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b2 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 3 of b
    s = t0 + a0 * b3
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b3 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b3 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b3 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b3 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b3 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b3 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 4 of b
    s = t0 + a0 * b4
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b4 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b4 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b4 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b4 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b4 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b4 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 5 of b
    s = t0 + a0 * b5
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b5 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b5 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b5 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b5 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b5 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b5 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 6 of b
    s = t0 + a0 * b6
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b6 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b6 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b6 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b6 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b6 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b6 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    # limb 7 of b
    s = t0 + a0 * b7
    t0 = s & MASK
    c = s >> SHIFT
    s = t1 + a1 * b7 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t2 + a2 * b7 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t3 + a3 * b7 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t4 + a4 * b7 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t5 + a5 * b7 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t6 + a6 * b7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t7 + a7 * b7 + c
    t7 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t8 = s & MASK
    t9 = s >> SHIFT
    q = (t0 * n0) & MASK
    c = (t0 + q * m0) >> SHIFT
    s = t1 + q * m1 + c
    t0 = s & MASK
    c = s >> SHIFT
    s = t2 + q * m2 + c
    t1 = s & MASK
    c = s >> SHIFT
    s = t3 + q * m3 + c
    t2 = s & MASK
    c = s >> SHIFT
    s = t4 + q * m4 + c
    t3 = s & MASK
    c = s >> SHIFT
    s = t5 + q * m5 + c
    t4 = s & MASK
    c = s >> SHIFT
    s = t6 + q * m6 + c
    t5 = s & MASK
    c = s >> SHIFT
    s = t7 + q * m7 + c
    t6 = s & MASK
    c = s >> SHIFT
    s = t8 + c
    t7 = s & MASK
    t8 = t9 + (s >> SHIFT)
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = t0, t1, t2, t3, t4, t5, t6, t7
    if t8 != 0 or _geq(out, m):
        _sub_raw(out, out, m)


@njit(cache=True)
def mont_mul_rows(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray, n0: np.uint64) -> None:
    """Row-wise ``out[i] = a[i]·b[i]·2^-256 mod m`` over ``(n, 8)`` arrays (for tests and batches)."""
    for i in range(a.shape[0]):
        mont_mul(out[i], a[i], b[i], m, n0)


@njit(cache=True)
def add_rows(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray) -> None:
    for i in range(a.shape[0]):
        add_mod(out[i], a[i], b[i], m)


@njit(cache=True)
def sub_rows(out: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray) -> None:
    for i in range(a.shape[0]):
        sub_mod(out[i], a[i], b[i], m)
