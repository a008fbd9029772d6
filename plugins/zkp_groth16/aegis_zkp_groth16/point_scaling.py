"""Many independent scalar multiplications of BN254 points in numba (the ceremony's workhorse).

A ceremony multiplies thousands of points each by its *own* scalar (``τ^i·G1 → t^i·τ^i·G1``), runs
an inverse FFT over group elements (butterflies are scalar multiplications by roots of unity) and
sums sparse combinations ``Σ kⱼ·Pⱼ`` per wire. None of that is an MSM, so these kernels do one
4-bit fixed-window double-and-add per term on the Jacobian limb code of :mod:`curve_limbs`, with
the independent terms spread over threads.

Arrays hold Montgomery-form Jacobian points, ``(n, 3, 8)`` for G1 and ``(n, 3, 2, 8)`` for G2;
scalars are plain (non-Montgomery) 8×32-bit limbs ``(n, 8)``. The Python helpers convert lists of
point tuples (as :mod:`bn254`) to and from these arrays, normalising results to ``Z = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from aegis_zkp_groth16.bn254 import G1_ZERO, G2_ZERO, P, R
from aegis_zkp_groth16.curve_limbs import (
    F2_ZERO,
    FP_ZERO,
    digit,
    f2_clear,
    f2_copy,
    f2_sub,
    f2_zero,
    fp_clear,
    fp_copy,
    fp_sub,
    fp_zero,
    g1_add,
    g1_double,
    g2_add,
    g2_double,
)
from aegis_zkp_groth16.keys import G1, G2
from aegis_zkp_groth16.limbs import from_mont, to_limbs, to_mont

WINDOW = 4
WINDOWS = 64  # 256 bits of scalar in 4-bit windows


# -- kernels: one scalar multiplication ------------------------------------------------

@njit(cache=True, _nrt=False)
def _g1_copy(out: np.ndarray, p: np.ndarray) -> None:
    fp_copy(out[0], p[0])
    fp_copy(out[1], p[1])
    fp_copy(out[2], p[2])


@njit(cache=True, _nrt=False)
def _g2_copy(out: np.ndarray, p: np.ndarray) -> None:
    f2_copy(out[0], p[0])
    f2_copy(out[1], p[1])
    f2_copy(out[2], p[2])


@njit(cache=True, _nrt=False)
def _top_window(scalar: np.ndarray) -> int:
    w = WINDOWS - 1
    while w >= 0 and digit(scalar, w * WINDOW, WINDOW) == 0:
        w -= 1
    return w


@njit(cache=True, _nrt=False)
def g1_mul(out: np.ndarray, p: np.ndarray, scalar: np.ndarray, table: np.ndarray, ws: np.ndarray) -> None:
    """``out = scalar·p`` (``out`` must not alias ``p``); ``table`` is ``(16, 3, 8)`` scratch."""
    top = _top_window(scalar)
    if top < 0 or fp_zero(p[2]):
        fp_clear(out[2])
        return
    _g1_copy(table[1], p)
    for k in range(2, 16):
        _g1_copy(table[k], table[k - 1])
        g1_add(table[k], p, ws)
    _g1_copy(out, table[digit(scalar, top * WINDOW, WINDOW)])
    for w in range(top - 1, -1, -1):
        for _ in range(WINDOW):
            g1_double(out, out, ws)
        d = digit(scalar, w * WINDOW, WINDOW)
        if d:
            g1_add(out, table[d], ws)


@njit(cache=True, _nrt=False)
def g2_mul(out: np.ndarray, p: np.ndarray, scalar: np.ndarray, table: np.ndarray, ws: np.ndarray) -> None:
    """``out = scalar·p`` over G2 (``out`` must not alias ``p``); ``table`` is ``(16, 3, 2, 8)`` scratch."""
    top = _top_window(scalar)
    if top < 0 or f2_zero(p[2]):
        f2_clear(out[2])
        return
    _g2_copy(table[1], p)
    for k in range(2, 16):
        _g2_copy(table[k], table[k - 1])
        g2_add(table[k], p, ws)
    _g2_copy(out, table[digit(scalar, top * WINDOW, WINDOW)])
    for w in range(top - 1, -1, -1):
        for _ in range(WINDOW):
            g2_double(out, out, ws)
        d = digit(scalar, w * WINDOW, WINDOW)
        if d:
            g2_add(out, table[d], ws)


# -- kernels: many at once -------------------------------------------------------------

@njit(cache=True, parallel=True)
def g1_scale_kernel(points: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """``out[i] = scalars[i]·points[i]``."""
    n = points.shape[0]
    out = np.zeros_like(points)
    for i in prange(n):
        ws = np.zeros((24, 10), dtype=np.uint64)
        table = np.zeros((16, 3, 8), dtype=np.uint64)
        g1_mul(out[i], points[i], scalars[i], table, ws)
    return out


@njit(cache=True, parallel=True)
def g2_scale_kernel(points: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """``out[i] = scalars[i]·points[i]`` over G2."""
    n = points.shape[0]
    out = np.zeros_like(points)
    for i in prange(n):
        ws = np.zeros((24, 2, 10), dtype=np.uint64)
        table = np.zeros((16, 3, 2, 8), dtype=np.uint64)
        g2_mul(out[i], points[i], scalars[i], table, ws)
    return out


@njit(cache=True, parallel=True)
def g1_fft_kernel(a: np.ndarray, twiddles: np.ndarray) -> None:
    """In-place radix-2 butterflies over bit-reversed ``a``; ``twiddles[s, k]`` is stage ``s``'s k-th root."""
    n = a.shape[0]
    length, stage = 2, 0
    while length <= n:
        half = length >> 1
        for b in prange(n >> 1):
            ws = np.zeros((24, 10), dtype=np.uint64)
            table = np.zeros((16, 3, 8), dtype=np.uint64)
            v = np.zeros((3, 8), dtype=np.uint64)
            k = b % half
            lo = (b // half) * length + k
            hi = lo + half
            g1_mul(v, a[hi], twiddles[stage, k], table, ws)
            _g1_copy(a[hi], a[lo])
            g1_add(a[lo], v, ws)
            fp_sub(v[1], FP_ZERO, v[1])
            g1_add(a[hi], v, ws)
        length <<= 1
        stage += 1


@njit(cache=True, parallel=True)
def g2_fft_kernel(a: np.ndarray, twiddles: np.ndarray) -> None:
    """:func:`g1_fft_kernel` over G2."""
    n = a.shape[0]
    length, stage = 2, 0
    while length <= n:
        half = length >> 1
        for b in prange(n >> 1):
            ws = np.zeros((24, 2, 10), dtype=np.uint64)
            table = np.zeros((16, 3, 2, 8), dtype=np.uint64)
            v = np.zeros((3, 2, 8), dtype=np.uint64)
            k = b % half
            lo = (b // half) * length + k
            hi = lo + half
            g2_mul(v, a[hi], twiddles[stage, k], table, ws)
            _g2_copy(a[hi], a[lo])
            g2_add(a[lo], v, ws)
            f2_sub(v[1], F2_ZERO, v[1])
            g2_add(a[hi], v, ws)
        length <<= 1
        stage += 1


@njit(cache=True, parallel=True)
def g1_sparse_kernel(points: np.ndarray, indptr: np.ndarray, rows: np.ndarray, scalars: np.ndarray,
                     negate: np.ndarray) -> np.ndarray:
    """``out[i] = Σ ±scalars[t]·points[rows[t]]`` for ``t`` in ``indptr[i] .. indptr[i+1]`` (CSR).

    The products run in parallel per term (outputs have very uneven term counts), the sums serially.
    """
    m = indptr.shape[0] - 1
    terms = np.zeros((rows.shape[0], 3, 8), dtype=np.uint64)
    for t in prange(rows.shape[0]):
        ws = np.zeros((24, 10), dtype=np.uint64)
        table = np.zeros((16, 3, 8), dtype=np.uint64)
        g1_mul(terms[t], points[rows[t]], scalars[t], table, ws)
        if negate[t]:
            fp_sub(terms[t, 1], FP_ZERO, terms[t, 1])
    out = np.zeros((m, 3, 8), dtype=np.uint64)
    ws = np.zeros((24, 10), dtype=np.uint64)
    for i in range(m):
        for t in range(indptr[i], indptr[i + 1]):
            g1_add(out[i], terms[t], ws)
    return out


@njit(cache=True, parallel=True)
def g2_sparse_kernel(points: np.ndarray, indptr: np.ndarray, rows: np.ndarray, scalars: np.ndarray,
                     negate: np.ndarray) -> np.ndarray:
    """:func:`g1_sparse_kernel` over G2."""
    m = indptr.shape[0] - 1
    terms = np.zeros((rows.shape[0], 3, 2, 8), dtype=np.uint64)
    for t in prange(rows.shape[0]):
        ws = np.zeros((24, 2, 10), dtype=np.uint64)
        table = np.zeros((16, 3, 2, 8), dtype=np.uint64)
        g2_mul(terms[t], points[rows[t]], scalars[t], table, ws)
        if negate[t]:
            f2_sub(terms[t, 1], F2_ZERO, terms[t, 1])
    out = np.zeros((m, 3, 2, 8), dtype=np.uint64)
    ws = np.zeros((24, 2, 10), dtype=np.uint64)
    for i in range(m):
        for t in range(indptr[i], indptr[i + 1]):
            g2_add(out[i], terms[t], ws)
    return out


# -- Python side: tuples <-> arrays ------------------------------------------------------

def g1_array(points: Sequence[G1]) -> np.ndarray:
    """Montgomery Jacobian limbs ``(n, 3, 8)`` of G1 tuples."""
    return to_mont([c for p in points for c in p], P).reshape(len(points), 3, 8)


def g2_array(points: Sequence[G2]) -> np.ndarray:
    """Montgomery Jacobian limbs ``(n, 3, 2, 8)`` of G2 tuples."""
    return to_mont([c for p in points for pair in p for c in pair], P).reshape(len(points), 3, 2, 8)


def _batch_inverse(values: list[int]) -> list[int]:
    """Inverses mod P of non-zero ``values`` with one exponentiation (Montgomery's trick)."""
    prefix = [1] * (len(values) + 1)
    for i, v in enumerate(values):
        prefix[i + 1] = prefix[i] * v % P
    inv = pow(prefix[-1], -1, P) if values else 1
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % P
        inv = inv * values[i] % P
    return out


def g1_points(arr: np.ndarray) -> list[G1]:
    """G1 tuples, normalised to ``Z = 1`` (infinity as :data:`G1_ZERO`), of a limb array."""
    flat = from_mont(arr, P)
    triples = [flat[i:i + 3] for i in range(0, len(flat), 3)]
    finite = [t for t in triples if t[2]]
    zinv = iter(_batch_inverse([t[2] for t in finite]))
    out: list[G1] = []
    for x, y, z in triples:
        if not z:
            out.append(G1_ZERO)
            continue
        zi = next(zinv)
        zi2 = zi * zi % P
        out.append((x * zi2 % P, y * zi2 * zi % P, 1))
    return out


def _f2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def g2_points(arr: np.ndarray) -> list[G2]:
    """G2 tuples, normalised to ``Z = 1`` (infinity as :data:`G2_ZERO`), of a limb array."""
    flat = from_mont(arr, P)
    sixes = [flat[i:i + 6] for i in range(0, len(flat), 6)]
    finite = [s for s in sixes if s[4] or s[5]]
    norms = _batch_inverse([(s[4] * s[4] + s[5] * s[5]) % P for s in finite])
    out: list[G2] = []
    k = 0
    for x0, x1, y0, y1, z0, z1 in sixes:
        if not (z0 or z1):
            out.append(G2_ZERO)
            continue
        zi = (z0 * norms[k] % P, -z1 * norms[k] % P)
        k += 1
        zi2 = _f2_mul(zi, zi)
        out.append((_f2_mul((x0, x1), zi2), _f2_mul((y0, y1), _f2_mul(zi2, zi)), (1, 0)))
    return out


def scalar_limbs(scalars: Sequence[int]) -> np.ndarray:
    """Plain ``(n, 8)`` limbs of scalars reduced mod R (wipe with ``arr.fill(0)`` when secret)."""
    return to_limbs([s % R for s in scalars])


# -- Python API --------------------------------------------------------------------------

def scale_g1(points: Sequence[G1], scalars: np.ndarray) -> list[G1]:
    """``[sᵢ·Pᵢ]`` for limb scalars (see :func:`scalar_limbs`)."""
    return g1_points(g1_scale_kernel(g1_array(points), scalars))


def scale_g2(points: Sequence[G2], scalars: np.ndarray) -> list[G2]:
    """``[sᵢ·Pᵢ]`` over G2 for limb scalars."""
    return g2_points(g2_scale_kernel(g2_array(points), scalars))


def fft_twiddles(root: int, n: int) -> np.ndarray:
    """``(log n, n/2, 8)`` limbs: stage ``s`` holds the powers of the primitive ``2^(s+1)``-th root."""
    stages = n.bit_length() - 1
    out = []
    length = 2
    for _ in range(stages):
        w = pow(root, n // length, R)
        row = [1] * (n >> 1)
        for k in range(1, length >> 1):
            row[k] = row[k - 1] * w % R
        out.extend(row)
        length <<= 1
    return to_limbs(out).reshape(stages, n >> 1, 8)


def bit_reversal(n: int) -> np.ndarray:
    bits = n.bit_length() - 1
    return np.array([int(f"{i:0{bits}b}"[::-1], 2) if bits else 0 for i in range(n)], dtype=np.int64)


def fft_g1(arr: np.ndarray, twiddles: np.ndarray) -> np.ndarray:
    """``out[j] = Σᵢ ω^(ij)·arr[i]`` for the root behind ``twiddles`` (no 1/n scaling)."""
    a = np.ascontiguousarray(arr[bit_reversal(arr.shape[0])])
    g1_fft_kernel(a, twiddles)
    return a


def fft_g2(arr: np.ndarray, twiddles: np.ndarray) -> np.ndarray:
    """:func:`fft_g1` over G2."""
    a = np.ascontiguousarray(arr[bit_reversal(arr.shape[0])])
    g2_fft_kernel(a, twiddles)
    return a


class SparseTerms:
    """Per-output lists of ``(point index, scalar)`` in CSR form, negating scalars above R/2 (cheaper)."""

    def __init__(self, outputs: Sequence[Sequence[tuple[int, int]]]):
        indptr, rows, scalars, negate = [0], [], [], []
        for terms in outputs:
            for row, k in terms:
                k %= R
                rows.append(row)
                negate.append(k > R - k)
                scalars.append(R - k if k > R - k else k)
            indptr.append(len(rows))
        self.indptr = np.array(indptr, dtype=np.int64)
        self.rows = np.array(rows, dtype=np.int64)
        self.scalars = to_limbs(scalars) if scalars else np.zeros((0, 8), dtype=np.uint64)
        self.negate = np.array(negate, dtype=np.bool_)


def sparse_g1(points: np.ndarray, terms: SparseTerms) -> np.ndarray:
    return g1_sparse_kernel(points, terms.indptr, terms.rows, terms.scalars, terms.negate)


def sparse_g2(points: np.ndarray, terms: SparseTerms) -> np.ndarray:
    return g2_sparse_kernel(points, terms.indptr, terms.rows, terms.scalars, terms.negate)


def subgroup_failures_g2(points: Sequence[G2]) -> list[int]:
    """Indices of the points ``p`` with ``r·p ≠ O`` (off the order-r subgroup; the twist has a cofactor)."""
    if not points:
        return []
    arr = g2_scale_kernel(g2_array(points), to_limbs([R] * len(points)))
    return [i for i in range(len(points)) if arr[i, 2].any()]
