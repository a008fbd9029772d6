"""BN254 (alt_bn128) arithmetic on plain Python integers: Fp, Fp2, G1 and G2 in Jacobian form.

This is the pure-Python path: the prover's oracle and its fallback. Points are tuples
``(X, Y, Z)``; the point at infinity has ``Z == 0``. G2 coordinates are Fp2 pairs
``(c0, c1)`` meaning ``c0 + c1·i`` with ``i² = −1`` (snarkjs' and py_ecc's order).
"""

from __future__ import annotations

P = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47
R = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
"""Base field modulus ``P`` and group order ``R`` (the scalar field Fr)."""

G1_GEN = (1, 2, 1)
G2_GEN = ((0x1800DEEF121F1E76426A00665E5C4479674322D4F75EDADD46DEBD5CD992F6ED,
           0x198E9393920D483A7260BFB731FB5D25F1AA493335A9E71297E485B7AEF312C2),
          (0x12C85EA5DB8C6DEB4AAB71808DCB408FE3D1E7690C43D37B4CE6CC0166FA7DAA,
           0x090689D0585FF075EC9E99AD690C3395BC4B313370B38EF355ACDADCD122975B),
          (1, 0))
G1_ZERO = (1, 1, 0)
G2_ZERO = ((1, 0), (1, 0), (0, 0))
B1 = 3
B2 = (0x2B149D40CEB8AAAE81BE18991BE06AC3B5B4C5E559DBEFA33267E6DC24A138E5,
      0x009713B03AF0FED4CD2CAFADEED8FDF4A74FA084E52D1852E4A2BD0685C315D2)


# -- Fp2 ---------------------------------------------------------------------

def f2_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] + b[0]) % P, (a[1] + b[1]) % P)


def f2_sub(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] - b[0]) % P, (a[1] - b[1]) % P)


def f2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    t0 = a[0] * b[0]
    t1 = a[1] * b[1]
    return ((t0 - t1) % P, ((a[0] + a[1]) * (b[0] + b[1]) - t0 - t1) % P)


def f2_sqr(a: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] + a[1]) * (a[0] - a[1]) % P, 2 * a[0] * a[1] % P)


def f2_scale(a: tuple[int, int], k: int) -> tuple[int, int]:
    return (a[0] * k % P, a[1] * k % P)


def f2_inv(a: tuple[int, int]) -> tuple[int, int]:
    norm = pow(a[0] * a[0] + a[1] * a[1], -1, P)
    return (a[0] * norm % P, -a[1] * norm % P)


# -- G1 (y² = x³ + 3 over Fp), Jacobian ---------------------------------------

def g1_double(p: tuple[int, int, int]) -> tuple[int, int, int]:
    x, y, z = p
    if z == 0 or y == 0:
        return G1_ZERO
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) * (x + b) - a - c) % P
    e = 3 * a % P
    x3 = (e * e - 2 * d) % P
    return (x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P)


def g1_add(p: tuple[int, int, int], q: tuple[int, int, int]) -> tuple[int, int, int]:
    x1, y1, z1 = p
    x2, y2, z2 = q
    if z1 == 0:
        return q
    if z2 == 0:
        return p
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    if h == 0:
        return g1_double(p) if r == 0 else G1_ZERO
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return (x3, (r * (v - x3) - s1 * hhh) % P, h * z1 * z2 % P)


def g1_neg(p: tuple[int, int, int]) -> tuple[int, int, int]:
    return (p[0], (-p[1]) % P, p[2])


def g1_affine(p: tuple[int, int, int]) -> tuple[int, int] | None:
    """``(x, y)`` of a Jacobian point, ``None`` for infinity."""
    x, y, z = p
    if z == 0:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return (x * zi2 % P, y * zi2 * zi % P)


def g1_on_curve(p: tuple[int, int, int]) -> bool:
    a = g1_affine(p)
    return a is None or (a[1] * a[1] - a[0] ** 3 - B1) % P == 0


# -- G2 (y² = x³ + 3/(9+i) over Fp2), Jacobian --------------------------------

G2Point = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]


def g2_double(p: G2Point) -> G2Point:
    x, y, z = p
    if z == (0, 0) or y == (0, 0):
        return G2_ZERO
    a = f2_sqr(x)
    b = f2_sqr(y)
    c = f2_sqr(b)
    xb = f2_add(x, b)
    d = f2_scale(f2_sub(f2_sub(f2_sqr(xb), a), c), 2)
    e = f2_scale(a, 3)
    x3 = f2_sub(f2_sqr(e), f2_scale(d, 2))
    y3 = f2_sub(f2_mul(e, f2_sub(d, x3)), f2_scale(c, 8))
    return (x3, y3, f2_scale(f2_mul(y, z), 2))


def g2_add(p: G2Point, q: G2Point) -> G2Point:
    x1, y1, z1 = p
    x2, y2, z2 = q
    if z1 == (0, 0):
        return q
    if z2 == (0, 0):
        return p
    z1z1 = f2_sqr(z1)
    z2z2 = f2_sqr(z2)
    u1 = f2_mul(x1, z2z2)
    u2 = f2_mul(x2, z1z1)
    s1 = f2_mul(y1, f2_mul(z2, z2z2))
    s2 = f2_mul(y2, f2_mul(z1, z1z1))
    h = f2_sub(u2, u1)
    r = f2_sub(s2, s1)
    if h == (0, 0):
        return g2_double(p) if r == (0, 0) else G2_ZERO
    hh = f2_sqr(h)
    hhh = f2_mul(h, hh)
    v = f2_mul(u1, hh)
    x3 = f2_sub(f2_sub(f2_sqr(r), hhh), f2_scale(v, 2))
    y3 = f2_sub(f2_mul(r, f2_sub(v, x3)), f2_mul(s1, hhh))
    return (x3, y3, f2_mul(h, f2_mul(z1, z2)))


def g2_neg(p: G2Point) -> G2Point:
    return (p[0], f2_sub((0, 0), p[1]), p[2])


def g2_affine(p: G2Point) -> tuple[tuple[int, int], tuple[int, int]] | None:
    x, y, z = p
    if z == (0, 0):
        return None
    zi = f2_inv(z)
    zi2 = f2_sqr(zi)
    return (f2_mul(x, zi2), f2_mul(y, f2_mul(zi2, zi)))


def g2_on_curve(p: G2Point) -> bool:
    a = g2_affine(p)
    if a is None:
        return True
    x, y = a
    return f2_sub(f2_sqr(y), f2_add(f2_mul(f2_sqr(x), x), B2)) == (0, 0)


# -- scalar multiplication (double-and-add; for single points only) -----------

def g1_mul(p: tuple[int, int, int], k: int) -> tuple[int, int, int]:
    k %= R
    acc = G1_ZERO
    for bit in bin(k)[2:] if k else "":
        acc = g1_double(acc)
        if bit == "1":
            acc = g1_add(acc, p)
    return acc


def g2_mul(p: G2Point, k: int) -> G2Point:
    k %= R
    acc = G2_ZERO
    for bit in bin(k)[2:] if k else "":
        acc = g2_double(acc)
        if bit == "1":
            acc = g2_add(acc, p)
    return acc


def g1_eq(p: tuple[int, int, int], q: tuple[int, int, int]) -> bool:
    return g1_affine(p) == g1_affine(q)


def g2_eq(p: G2Point, q: G2Point) -> bool:
    return g2_affine(p) == g2_affine(q)


def g2_in_subgroup(p: G2Point) -> bool:
    """``r·p = O``: ``p`` lies in the order-r subgroup (the twist has a large cofactor)."""
    if p[2] == (0, 0):
        return True
    return g2_add(g2_mul(p, R - 1), p)[2] == (0, 0)
