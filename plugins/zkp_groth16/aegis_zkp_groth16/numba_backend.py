"""The numba prover backend: Pippenger MSM over G1 and G2 and the quotient NTT on Montgomery limbs.

Proving-key queries are converted to affine Montgomery limbs once and kept (looked up by the query
list's identity and confirmed by comparing a copy, so a mutated list is converted again). :func:`warm_up` compiles
(or loads from numba's on-disk cache) every kernel so no proof pays the compile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aegis_zkp_groth16 import ntt_limbs
from aegis_zkp_groth16.bn254 import G1_GEN, G1_ZERO, G2_GEN, G2_ZERO, P, R, g1_affine, g2_affine
from aegis_zkp_groth16.curve_limbs import g1_pippenger, g2_pippenger
from aegis_zkp_groth16.keys import G1, G2
from aegis_zkp_groth16.limbs import from_mont, to_limbs, to_mont

CACHE_ENTRIES = 16


def window_bits(n: int) -> int:
    """Pippenger window for ``n`` non-zero terms."""
    return 3 if n < 32 else max(3, n.bit_length() - 2)


class _PointTable:
    """Affine Montgomery limbs of a query, and which of its points are at infinity."""

    def __init__(self, points: Sequence, affine, dims: tuple[int, ...]):
        self.points = tuple(points)
        xs, ys, finite = [], [], []
        for p in points:
            a = affine(p)
            finite.append(a is not None)
            x, y = a if a is not None else ((0, 0), (0, 0)) if len(dims) == 2 else (0, 0)
            xs.append(x)
            ys.append(y)
        flat = (lambda v: [c for pair in v for c in pair]) if len(dims) == 2 else list
        self.xs = to_mont(flat(xs), P).reshape(len(points), *dims)
        self.ys = to_mont(flat(ys), P).reshape(len(points), *dims)
        self.finite = np.array(finite, dtype=bool)


class NumbaBackend:
    """Arithmetic in numba kernels; results equal :class:`~aegis_zkp_groth16.prover.PythonBackend`'s."""

    name = "numba"

    def __init__(self) -> None:
        self._tables: dict[int, _PointTable] = {}
        self._last: tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray] | None = None

    def _table(self, points: Sequence, affine, dims: tuple[int, ...]) -> _PointTable:
        if len(points) == 1:  # single points (r·δ and the like) change every proof: not worth keeping
            return _PointTable(points, affine, dims)
        table = self._tables.get(id(points))
        if table is None or table.points != tuple(points):
            if len(self._tables) >= CACHE_ENTRIES:
                self._tables.pop(next(iter(self._tables)))
            table = self._tables[id(points)] = _PointTable(points, affine, dims)
        return table

    def _terms(self, table: _PointTable, scalars: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        if len(scalars) != len(table.points):
            raise ValueError(f"MSM of {len(table.points)} points with {len(scalars)} scalars")
        key = tuple(scalars)
        if self._last is None or self._last[0] != key:  # the witness feeds three MSMs in a row
            reduced = [s % R for s in key]
            bit_lengths = np.array([s.bit_length() for s in reduced], dtype=np.int64)
            self._last = (key, to_limbs(reduced), bit_lengths, bit_lengths > 0)
        _, limbs, bit_lengths, nonzero = self._last
        keep = np.flatnonzero(nonzero & table.finite)
        bits = int(bit_lengths[keep].max()) if len(keep) else 0
        return table.xs[keep], table.ys[keep], limbs[keep], bits

    def msm_g1(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        xs, ys, limbs, bits = self._terms(self._table(points, g1_affine, (8,)), scalars)
        if not bits:
            return G1_ZERO
        c = window_bits(len(limbs))
        x, y, z = from_mont(g1_pippenger(xs, ys, limbs, c, (bits + c - 1) // c), P)
        return (x, y, z)

    def msm_g2(self, points: Sequence[G2], scalars: Sequence[int]) -> G2:
        xs, ys, limbs, bits = self._terms(self._table(points, g2_affine, (2, 8)), scalars)
        if not bits:
            return G2_ZERO
        c = window_bits(len(limbs))
        x0, x1, y0, y1, z0, z1 = from_mont(g2_pippenger(xs, ys, limbs, c, (bits + c - 1) // c), P)
        return ((x0, x1), (y0, y1), (z0, z1))

    def quotient(self, a: list[int], b: list[int], c: list[int]) -> list[int]:
        return ntt_limbs.quotient(a, b, c)

    def g1_mul(self, point: G1, k: int) -> G1:
        return self.msm_g1([point], [k])

    def g2_mul(self, point: G2, k: int) -> G2:
        return self.msm_g2([point], [k])


def warm_up(backend: NumbaBackend | None = None) -> None:
    """Compile (or load from cache) every kernel on a tiny input."""
    backend = backend or NumbaBackend()
    backend.msm_g1([G1_GEN, G1_GEN], [3, R - 1])
    backend.msm_g2([G2_GEN, G2_GEN], [3, R - 1])
    backend.quotient([1, 2, 3, 4], [1, 1, 1, 1], [1, 2, 3, 4])
    backend.g1_mul(G1_GEN, R - 2)
    backend.g2_mul(G2_GEN, R - 2)
