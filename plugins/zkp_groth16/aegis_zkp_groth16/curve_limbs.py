"""BN254 G1 and G2 in numba: Jacobian add/double on Montgomery limbs and Pippenger's bucket MSM.

Points are uint64 arrays ``(3, 8)`` (G1) or ``(3, 2, 8)`` (G2: Fp2 coordinates ``c0 + c1·i``) of
Montgomery-form Jacobian coordinates; ``Z = 0`` is the point at infinity. Bucket accumulation adds
affine inputs (mixed addition); buckets and sums are Jacobian. Temporaries live in a workspace
``ws`` of 24 rows (10-wide; for G2 each row holds an Fp2 pair) allocated once per MSM window (windows run in parallel).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from aegis_zkp_groth16.limbs import MODULUS_P, ONE_P, P_N0, add_mod, copy, is_zero, mont_mul, sub_mod

FP_ONE = ONE_P
F2_ONE = np.stack([ONE_P, np.zeros(8, dtype=np.uint64)])
FP_ZERO = np.zeros(8, dtype=np.uint64)
F2_ZERO = np.zeros((2, 8), dtype=np.uint64)


# -- Fp and Fp2 on limbs ----------------------------------------------------------

@njit(cache=True, _nrt=False)
def fp_mul(out: np.ndarray, a: np.ndarray, b: np.ndarray, ws: np.ndarray) -> None:
    """Montgomery product; ``ws`` is unused, kept so G1 code reads exactly like the G2 code."""
    mont_mul(out, a, b, MODULUS_P, P_N0)


@njit(cache=True, _nrt=False)
def fp_add(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    add_mod(out, a, b, MODULUS_P)


@njit(cache=True, _nrt=False)
def fp_sub(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    sub_mod(out, a, b, MODULUS_P)


@njit(cache=True, _nrt=False)
def fp_zero(a: np.ndarray) -> bool:
    return is_zero(a)


@njit(cache=True, _nrt=False)
def fp_copy(out: np.ndarray, a: np.ndarray) -> None:
    copy(out, a)


@njit(cache=True, _nrt=False)
def fp_clear(out: np.ndarray) -> None:
    for j in range(8):
        out[j] = 0


@njit(cache=True, _nrt=False)
def f2_mul(out: np.ndarray, a: np.ndarray, b: np.ndarray, ws: np.ndarray) -> None:
    """Karatsuba over Fp2 (i² = −1); scratch in ``ws`` rows 0 and 22."""
    t0, t1, sa, sb = ws[0, 0], ws[0, 1], ws[22, 0], ws[22, 1]
    mont_mul(t0, a[0], b[0], MODULUS_P, P_N0)
    mont_mul(t1, a[1], b[1], MODULUS_P, P_N0)
    add_mod(sa, a[0], a[1], MODULUS_P)
    add_mod(sb, b[0], b[1], MODULUS_P)
    mont_mul(sa, sa, sb, MODULUS_P, P_N0)
    sub_mod(out[0], t0, t1, MODULUS_P)
    sub_mod(sa, sa, t0, MODULUS_P)
    sub_mod(out[1], sa, t1, MODULUS_P)


@njit(cache=True, _nrt=False)
def f2_add(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    add_mod(out[0], a[0], b[0], MODULUS_P)
    add_mod(out[1], a[1], b[1], MODULUS_P)


@njit(cache=True, _nrt=False)
def f2_sub(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    sub_mod(out[0], a[0], b[0], MODULUS_P)
    sub_mod(out[1], a[1], b[1], MODULUS_P)


@njit(cache=True, _nrt=False)
def f2_zero(a: np.ndarray) -> bool:
    return is_zero(a[0]) and is_zero(a[1])


@njit(cache=True, _nrt=False)
def f2_copy(out: np.ndarray, a: np.ndarray) -> None:
    copy(out[0], a[0])
    copy(out[1], a[1])


@njit(cache=True, _nrt=False)
def f2_clear(out: np.ndarray) -> None:
    for j in range(8):
        out[0, j] = 0
        out[1, j] = 0


@njit(cache=True, _nrt=False)
def digit(scalar: np.ndarray, shift: int, c: int) -> int:
    """Bits ``shift .. shift+c−1`` of an 8×32-bit limb scalar."""
    limb = shift >> 5
    if limb >= 8:
        return 0
    off = np.uint64(shift & 31)
    v = scalar[limb] >> off
    if (shift & 31) + c > 32 and limb < 7:
        v |= scalar[limb + 1] << (np.uint64(32) - off)
    return np.int64(v & np.uint64((1 << c) - 1))


@njit(cache=True)
def signed_digits(scalars: np.ndarray, c: int, windows: int) -> np.ndarray:
    """Each scalar as ``windows + 1`` digits in ``[−2^(c−1), 2^(c−1)]`` with Σ dᵥ·2^(c·w) = scalar."""
    half, full = 1 << (c - 1), 1 << c
    out = np.zeros((scalars.shape[0], windows + 1), dtype=np.int64)
    for i in range(scalars.shape[0]):
        carry = 0
        for w in range(windows + 1):
            d = digit(scalars[i], w * c, c) + carry
            carry = 1 if d >= half else 0
            out[i, w] = d - full * carry
    return out


# -- G1: y² = x³ + 3 over Fp ------------------------------------------------------

@njit(cache=True, _nrt=False)
def g1_double(out: np.ndarray, p: np.ndarray, ws: np.ndarray) -> None:
    """``out = 2p`` (dbl-2009-l); ``ws`` rows 1–8 are used."""
    if fp_zero(p[2]) or fp_zero(p[1]):
        fp_clear(out[2])
        return
    a, b, c, d, e, x3, y3, z3 = ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7], ws[8]
    fp_mul(a, p[0], p[0], ws)
    fp_mul(b, p[1], p[1], ws)
    fp_mul(c, b, b, ws)
    fp_add(d, p[0], b)
    fp_mul(d, d, d, ws)
    fp_sub(d, d, a)
    fp_sub(d, d, c)
    fp_add(d, d, d)
    fp_add(e, a, a)
    fp_add(e, e, a)
    fp_mul(x3, e, e, ws)
    fp_sub(x3, x3, d)
    fp_sub(x3, x3, d)
    fp_sub(y3, d, x3)
    fp_mul(y3, e, y3, ws)
    fp_add(c, c, c)
    fp_add(c, c, c)
    fp_add(c, c, c)
    fp_sub(y3, y3, c)
    fp_mul(z3, p[1], p[2], ws)
    fp_add(z3, z3, z3)
    fp_copy(out[0], x3)
    fp_copy(out[1], y3)
    fp_copy(out[2], z3)


@njit(cache=True, _nrt=False)
def g1_add_affine(acc: np.ndarray, x2: np.ndarray, y2: np.ndarray, ws: np.ndarray) -> None:
    """``acc += (x2, y2)`` in place, the second point affine (madd-2007-bl); ``ws`` rows 1–20."""
    if fp_zero(acc[2]):
        fp_copy(acc[0], x2)
        fp_copy(acc[1], y2)
        fp_copy(acc[2], FP_ONE)
        return
    z1z1, u2, s2, h, r = ws[9], ws[10], ws[11], ws[12], ws[13]
    fp_mul(z1z1, acc[2], acc[2], ws)
    fp_mul(u2, x2, z1z1, ws)
    fp_mul(s2, acc[2], z1z1, ws)
    fp_mul(s2, s2, y2, ws)
    fp_sub(h, u2, acc[0])
    fp_sub(r, s2, acc[1])
    if fp_zero(h):
        if fp_zero(r):
            g1_double(acc, acc, ws)
        else:
            fp_clear(acc[2])
        return
    hh, i, j, v, x3, y3 = ws[14], ws[15], ws[16], ws[17], ws[18], ws[19]
    fp_mul(hh, h, h, ws)
    fp_add(i, hh, hh)
    fp_add(i, i, i)
    fp_mul(j, h, i, ws)
    fp_add(r, r, r)
    fp_mul(v, acc[0], i, ws)
    fp_mul(x3, r, r, ws)
    fp_sub(x3, x3, j)
    fp_sub(x3, x3, v)
    fp_sub(x3, x3, v)
    fp_sub(y3, v, x3)
    fp_mul(y3, r, y3, ws)
    fp_mul(j, acc[1], j, ws)
    fp_add(j, j, j)
    fp_sub(y3, y3, j)
    fp_add(acc[2], acc[2], h)
    fp_mul(acc[2], acc[2], acc[2], ws)
    fp_sub(acc[2], acc[2], z1z1)
    fp_sub(acc[2], acc[2], hh)
    fp_copy(acc[0], x3)
    fp_copy(acc[1], y3)


@njit(cache=True, _nrt=False)
def g1_add(acc: np.ndarray, q: np.ndarray, ws: np.ndarray) -> None:
    """``acc += q`` in place, both Jacobian (add-2007-bl); ``ws`` rows 1–21."""
    if fp_zero(q[2]):
        return
    if fp_zero(acc[2]):
        fp_copy(acc[0], q[0])
        fp_copy(acc[1], q[1])
        fp_copy(acc[2], q[2])
        return
    z1z1, z2z2, u1, u2, s1, s2, h, r = ws[9], ws[10], ws[11], ws[12], ws[13], ws[14], ws[15], ws[16]
    fp_mul(z1z1, acc[2], acc[2], ws)
    fp_mul(z2z2, q[2], q[2], ws)
    fp_mul(u1, acc[0], z2z2, ws)
    fp_mul(u2, q[0], z1z1, ws)
    fp_mul(s1, q[2], z2z2, ws)
    fp_mul(s1, acc[1], s1, ws)
    fp_mul(s2, acc[2], z1z1, ws)
    fp_mul(s2, q[1], s2, ws)
    fp_sub(h, u2, u1)
    fp_sub(r, s2, s1)
    if fp_zero(h):
        if fp_zero(r):
            g1_double(acc, acc, ws)
        else:
            fp_clear(acc[2])
        return
    i, j, v, x3, y3 = ws[17], ws[18], ws[19], ws[20], ws[21]
    fp_add(i, h, h)
    fp_mul(i, i, i, ws)
    fp_mul(j, h, i, ws)
    fp_add(r, r, r)
    fp_mul(v, u1, i, ws)
    fp_mul(x3, r, r, ws)
    fp_sub(x3, x3, j)
    fp_sub(x3, x3, v)
    fp_sub(x3, x3, v)
    fp_sub(y3, v, x3)
    fp_mul(y3, r, y3, ws)
    fp_mul(j, s1, j, ws)
    fp_add(j, j, j)
    fp_sub(y3, y3, j)
    fp_add(acc[2], acc[2], q[2])
    fp_mul(acc[2], acc[2], acc[2], ws)
    fp_sub(acc[2], acc[2], z1z1)
    fp_sub(acc[2], acc[2], z2z2)
    fp_mul(acc[2], acc[2], h, ws)
    fp_copy(acc[0], x3)
    fp_copy(acc[1], y3)


@njit(cache=True, parallel=True)
def g1_pippenger(xs: np.ndarray, ys: np.ndarray, scalars: np.ndarray, c: int, windows: int) -> np.ndarray:
    """Σ scalarᵢ·(xsᵢ, ysᵢ): affine Montgomery points, plain 8-limb scalars; Jacobian result.

    Signed c-bit digits halve the buckets; the independent windows run in parallel threads.
    """
    digits = signed_digits(scalars, c, windows)
    windows = digits.shape[1]
    half = 1 << (c - 1)
    sums = np.zeros((windows, 3, 8), dtype=np.uint64)
    for w in prange(windows):
        ws = np.zeros((24, 10), dtype=np.uint64)
        buckets = np.zeros((half + 1, 3, 8), dtype=np.uint64)
        running = np.zeros((3, 8), dtype=np.uint64)
        for i in range(xs.shape[0]):
            d = digits[i, w]
            if d > 0:
                g1_add_affine(buckets[d], xs[i], ys[i], ws)
            elif d < 0:
                fp_sub(ws[23], FP_ZERO, ys[i])
                g1_add_affine(buckets[-d], xs[i], ws[23], ws)
        for d in range(half, 0, -1):
            g1_add(running, buckets[d], ws)
            g1_add(sums[w], running, ws)
    ws = np.zeros((24, 10), dtype=np.uint64)
    total = np.zeros((3, 8), dtype=np.uint64)
    for w in range(windows - 1, -1, -1):
        for _ in range(c):
            g1_double(total, total, ws)
        g1_add(total, sums[w], ws)
    return total


# -- G2: y² = x³ + 3/(9+i) over Fp2 ------------------------------------------------------

@njit(cache=True, _nrt=False)
def g2_double(out: np.ndarray, p: np.ndarray, ws: np.ndarray) -> None:
    """``out = 2p`` (dbl-2009-l); ``ws`` rows 1–8 are used."""
    if f2_zero(p[2]) or f2_zero(p[1]):
        f2_clear(out[2])
        return
    a, b, c, d, e, x3, y3, z3 = ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7], ws[8]
    f2_mul(a, p[0], p[0], ws)
    f2_mul(b, p[1], p[1], ws)
    f2_mul(c, b, b, ws)
    f2_add(d, p[0], b)
    f2_mul(d, d, d, ws)
    f2_sub(d, d, a)
    f2_sub(d, d, c)
    f2_add(d, d, d)
    f2_add(e, a, a)
    f2_add(e, e, a)
    f2_mul(x3, e, e, ws)
    f2_sub(x3, x3, d)
    f2_sub(x3, x3, d)
    f2_sub(y3, d, x3)
    f2_mul(y3, e, y3, ws)
    f2_add(c, c, c)
    f2_add(c, c, c)
    f2_add(c, c, c)
    f2_sub(y3, y3, c)
    f2_mul(z3, p[1], p[2], ws)
    f2_add(z3, z3, z3)
    f2_copy(out[0], x3)
    f2_copy(out[1], y3)
    f2_copy(out[2], z3)


@njit(cache=True, _nrt=False)
def g2_add_affine(acc: np.ndarray, x2: np.ndarray, y2: np.ndarray, ws: np.ndarray) -> None:
    """``acc += (x2, y2)`` in place, the second point affine (madd-2007-bl); ``ws`` rows 1–20."""
    if f2_zero(acc[2]):
        f2_copy(acc[0], x2)
        f2_copy(acc[1], y2)
        f2_copy(acc[2], F2_ONE)
        return
    z1z1, u2, s2, h, r = ws[9], ws[10], ws[11], ws[12], ws[13]
    f2_mul(z1z1, acc[2], acc[2], ws)
    f2_mul(u2, x2, z1z1, ws)
    f2_mul(s2, acc[2], z1z1, ws)
    f2_mul(s2, s2, y2, ws)
    f2_sub(h, u2, acc[0])
    f2_sub(r, s2, acc[1])
    if f2_zero(h):
        if f2_zero(r):
            g2_double(acc, acc, ws)
        else:
            f2_clear(acc[2])
        return
    hh, i, j, v, x3, y3 = ws[14], ws[15], ws[16], ws[17], ws[18], ws[19]
    f2_mul(hh, h, h, ws)
    f2_add(i, hh, hh)
    f2_add(i, i, i)
    f2_mul(j, h, i, ws)
    f2_add(r, r, r)
    f2_mul(v, acc[0], i, ws)
    f2_mul(x3, r, r, ws)
    f2_sub(x3, x3, j)
    f2_sub(x3, x3, v)
    f2_sub(x3, x3, v)
    f2_sub(y3, v, x3)
    f2_mul(y3, r, y3, ws)
    f2_mul(j, acc[1], j, ws)
    f2_add(j, j, j)
    f2_sub(y3, y3, j)
    f2_add(acc[2], acc[2], h)
    f2_mul(acc[2], acc[2], acc[2], ws)
    f2_sub(acc[2], acc[2], z1z1)
    f2_sub(acc[2], acc[2], hh)
    f2_copy(acc[0], x3)
    f2_copy(acc[1], y3)


@njit(cache=True, _nrt=False)
def g2_add(acc: np.ndarray, q: np.ndarray, ws: np.ndarray) -> None:
    """``acc += q`` in place, both Jacobian (add-2007-bl); ``ws`` rows 1–21."""
    if f2_zero(q[2]):
        return
    if f2_zero(acc[2]):
        f2_copy(acc[0], q[0])
        f2_copy(acc[1], q[1])
        f2_copy(acc[2], q[2])
        return
    z1z1, z2z2, u1, u2, s1, s2, h, r = ws[9], ws[10], ws[11], ws[12], ws[13], ws[14], ws[15], ws[16]
    f2_mul(z1z1, acc[2], acc[2], ws)
    f2_mul(z2z2, q[2], q[2], ws)
    f2_mul(u1, acc[0], z2z2, ws)
    f2_mul(u2, q[0], z1z1, ws)
    f2_mul(s1, q[2], z2z2, ws)
    f2_mul(s1, acc[1], s1, ws)
    f2_mul(s2, acc[2], z1z1, ws)
    f2_mul(s2, q[1], s2, ws)
    f2_sub(h, u2, u1)
    f2_sub(r, s2, s1)
    if f2_zero(h):
        if f2_zero(r):
            g2_double(acc, acc, ws)
        else:
            f2_clear(acc[2])
        return
    i, j, v, x3, y3 = ws[17], ws[18], ws[19], ws[20], ws[21]
    f2_add(i, h, h)
    f2_mul(i, i, i, ws)
    f2_mul(j, h, i, ws)
    f2_add(r, r, r)
    f2_mul(v, u1, i, ws)
    f2_mul(x3, r, r, ws)
    f2_sub(x3, x3, j)
    f2_sub(x3, x3, v)
    f2_sub(x3, x3, v)
    f2_sub(y3, v, x3)
    f2_mul(y3, r, y3, ws)
    f2_mul(j, s1, j, ws)
    f2_add(j, j, j)
    f2_sub(y3, y3, j)
    f2_add(acc[2], acc[2], q[2])
    f2_mul(acc[2], acc[2], acc[2], ws)
    f2_sub(acc[2], acc[2], z1z1)
    f2_sub(acc[2], acc[2], z2z2)
    f2_mul(acc[2], acc[2], h, ws)
    f2_copy(acc[0], x3)
    f2_copy(acc[1], y3)


@njit(cache=True, parallel=True)
def g2_pippenger(xs: np.ndarray, ys: np.ndarray, scalars: np.ndarray, c: int, windows: int) -> np.ndarray:
    """Σ scalarᵢ·(xsᵢ, ysᵢ): affine Montgomery points, plain 8-limb scalars; Jacobian result.

    Signed c-bit digits halve the buckets; the independent windows run in parallel threads.
    """
    digits = signed_digits(scalars, c, windows)
    windows = digits.shape[1]
    half = 1 << (c - 1)
    sums = np.zeros((windows, 3, 2, 8), dtype=np.uint64)
    for w in prange(windows):
        ws = np.zeros((24, 2, 10), dtype=np.uint64)
        buckets = np.zeros((half + 1, 3, 2, 8), dtype=np.uint64)
        running = np.zeros((3, 2, 8), dtype=np.uint64)
        for i in range(xs.shape[0]):
            d = digits[i, w]
            if d > 0:
                g2_add_affine(buckets[d], xs[i], ys[i], ws)
            elif d < 0:
                f2_sub(ws[23], F2_ZERO, ys[i])
                g2_add_affine(buckets[-d], xs[i], ws[23], ws)
        for d in range(half, 0, -1):
            g2_add(running, buckets[d], ws)
            g2_add(sums[w], running, ws)
    ws = np.zeros((24, 2, 10), dtype=np.uint64)
    total = np.zeros((3, 2, 8), dtype=np.uint64)
    for w in range(windows - 1, -1, -1):
        for _ in range(c):
            g2_double(total, total, ws)
        g2_add(total, sums[w], ws)
    return total
