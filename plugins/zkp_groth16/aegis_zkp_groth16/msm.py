"""Multi-scalar multiplication on plain integers: Pippenger's bucket method for G1 and G2.

``msm_g1(points, scalars)`` computes Σ scalarᵢ·pointᵢ. Zero scalars cost nothing and the
window count follows the largest scalar, so the many bit-valued witness entries of a
circuit are cheap. Also the fixed-base batch multiplication used by key generation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aegis_zkp_groth16.bn254 import (
    G1_ZERO,
    G2_ZERO,
    R,
    g1_add,
    g1_double,
    g2_add,
    g2_double,
)

Point = Any


def _window(n: int) -> int:
    if n < 32:
        return 3
    return max(3, n.bit_length() - 2)


def _pippenger(points: Sequence[Point], scalars: Sequence[int], zero: Point,
               add: Callable[[Point, Point], Point], double: Callable[[Point], Point]) -> Point:
    pairs = [(p, s % R) for p, s in zip(points, scalars, strict=True)]
    pairs = [(p, s) for p, s in pairs if s]
    if not pairs:
        return zero
    ones = [p for p, s in pairs if s == 1]
    pairs = [(p, s) for p, s in pairs if s != 1]
    acc = zero
    for p in ones:
        acc = add(acc, p)
    if not pairs:
        return acc
    c = _window(len(pairs))
    mask = (1 << c) - 1
    bits = max(s for _, s in pairs).bit_length()
    windows = (bits + c - 1) // c
    total = zero
    for w in range(windows - 1, -1, -1):
        for _ in range(c):
            total = double(total)
        shift = w * c
        buckets: list[Point | None] = [None] * (mask + 1)
        for p, s in pairs:
            d = (s >> shift) & mask
            if d:
                b = buckets[d]
                buckets[d] = p if b is None else add(b, p)
        running = zero
        window_sum = zero
        for d in range(mask, 0, -1):
            b = buckets[d]
            if b is not None:
                running = add(running, b)
            window_sum = add(window_sum, running)
        total = add(total, window_sum)
    return add(total, acc)


def msm_g1(points: Sequence[Point], scalars: Sequence[int]) -> Point:
    """Σ scalarᵢ·pointᵢ over G1 (Jacobian tuples)."""
    return _pippenger(points, scalars, G1_ZERO, g1_add, g1_double)


def msm_g2(points: Sequence[Point], scalars: Sequence[int]) -> Point:
    """Σ scalarᵢ·pointᵢ over G2 (Jacobian tuples of Fp2 pairs)."""
    return _pippenger(points, scalars, G2_ZERO, g2_add, g2_double)


def _fixed_base(base: Point, scalars: Sequence[int], zero: Point,
                add: Callable[[Point, Point], Point], double: Callable[[Point], Point],
                c: int = 6) -> list[Point]:
    windows = (R.bit_length() + c - 1) // c
    mask = (1 << c) - 1
    table: list[list[Point]] = []
    start = base
    for _ in range(windows):
        row = [zero, start]
        for _ in range(mask - 1):
            row.append(add(row[-1], start))
        table.append(row)
        for _ in range(c):
            start = double(start)
    out = []
    for s in scalars:
        s %= R
        acc = zero
        w = 0
        while s:
            d = s & mask
            if d:
                acc = add(acc, table[w][d])
            s >>= c
            w += 1
        out.append(acc)
    return out


def fixed_base_g1(base: Point, scalars: Sequence[int]) -> list[Point]:
    """``[s·base for s in scalars]`` in G1 with one precomputed window table."""
    return _fixed_base(base, scalars, G1_ZERO, g1_add, g1_double)


def fixed_base_g2(base: Point, scalars: Sequence[int]) -> list[Point]:
    """``[s·base for s in scalars]`` in G2 with one precomputed window table."""
    return _fixed_base(base, scalars, G2_ZERO, g2_add, g2_double)
