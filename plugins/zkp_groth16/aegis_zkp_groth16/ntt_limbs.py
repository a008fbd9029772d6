"""Number-theoretic transforms over Fr in numba, on Montgomery limbs; same results as :mod:`ntt`.

The Python wrappers take and return plain ints; the twiddle and coset tables of a domain size
are computed once (plain Python) and kept.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit

from aegis_zkp_groth16.bn254 import R
from aegis_zkp_groth16.limbs import MODULUS_R, R_N0, add_mod, copy, from_mont, mont_mul, sub_mod, to_mont
from aegis_zkp_groth16.ntt import GENERATOR, root_of_unity

ONE_R = to_mont([1], R)[0]


@njit(cache=True, _nrt=False)
def _transform(a: np.ndarray, stage_roots: np.ndarray, twiddles: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """In-place radix-2 NTT of the ``(n, 8)`` array ``a``; ``stage_roots[s]`` is the 2^(s+1)-th root.

    ``twiddles`` (``n/2`` rows), ``u`` and ``v`` are scratch; with no allocation here numba need not
    reference-count the row views (``_nrt=False``), which is most of the cost otherwise.
    """
    n = a.shape[0]
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            for k in range(8):
                a[i, k], a[j, k] = a[j, k], a[i, k]
    length = 2
    stage = 0
    while length <= n:
        half = length >> 1
        copy(twiddles[0], ONE_R)
        for k in range(1, half):
            mont_mul(twiddles[k], twiddles[k - 1], stage_roots[stage], MODULUS_R, R_N0)
        for start in range(0, n, length):
            for k in range(half):
                mont_mul(v, a[start + k + half], twiddles[k], MODULUS_R, R_N0)
                copy(u, a[start + k])
                add_mod(a[start + k], u, v, MODULUS_R)
                sub_mod(a[start + k + half], u, v, MODULUS_R)
        length <<= 1
        stage += 1


@njit(cache=True, _nrt=False)
def _scale(a: np.ndarray, factors: np.ndarray) -> None:
    for i in range(a.shape[0]):
        mont_mul(a[i], a[i], factors[i], MODULUS_R, R_N0)


@njit(cache=True)
def _quotient(a: np.ndarray, b: np.ndarray, c: np.ndarray, forward: np.ndarray, inverse: np.ndarray,
              to_coset: np.ndarray, from_coset: np.ndarray, z_inv: np.ndarray) -> np.ndarray:
    twiddles = np.zeros((max(a.shape[0] >> 1, 1), 8), dtype=np.uint64)
    u = np.zeros(8, dtype=np.uint64)
    v = np.zeros(8, dtype=np.uint64)
    for ev in (a, b, c):
        _transform(ev, inverse, twiddles, u, v)
        _scale(ev, to_coset)
        _transform(ev, forward, twiddles, u, v)
    for i in range(a.shape[0]):
        mont_mul(a[i], a[i], b[i], MODULUS_R, R_N0)
        sub_mod(a[i], a[i], c[i], MODULUS_R)
        mont_mul(a[i], a[i], z_inv, MODULUS_R, R_N0)
    _transform(a, inverse, twiddles, u, v)
    _scale(a, from_coset)
    return a


@cache
def _stage_roots(n: int, inverse: bool) -> np.ndarray:
    w = root_of_unity(n)
    if inverse:
        w = pow(w, -1, R)
    roots = []
    length = 2
    while length <= n:
        roots.append(pow(w, n // length, R))
        length <<= 1
    return to_mont(roots or [1], R)


@cache
def _coset_tables(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``g^i/n`` (inverse NTT then shift to the coset), ``g^-i/n`` (back), ``1/(g^n − 1)``."""
    n_inv = pow(n, -1, R)
    g_inv = pow(GENERATOR, -1, R)
    to_coset, from_coset = [0] * n, [0] * n
    up, down = n_inv, n_inv
    for i in range(n):
        to_coset[i], from_coset[i] = up, down
        up, down = up * GENERATOR % R, down * g_inv % R
    z_inv = pow((pow(GENERATOR, n, R) - 1) % R, -1, R)
    return to_mont(to_coset, R), to_mont(from_coset, R), to_mont([z_inv], R)[0]


def ntt(values: list[int], inverse: bool = False) -> list[int]:
    """Evaluations ↔ coefficients on the ``len(values)``-th roots of unity (as :func:`ntt.ntt`)."""
    n = len(values)
    root_of_unity(n)
    a = to_mont(values, R)
    scratch = np.zeros((max(n >> 1, 1) + 2, 8), dtype=np.uint64)
    _transform(a, _stage_roots(n, inverse), scratch[2:], scratch[0], scratch[1])
    out = from_mont(a, R)
    if inverse:
        n_inv = pow(n, -1, R)
        out = [x * n_inv % R for x in out]
    return out


def quotient(a_eval: list[int], b_eval: list[int], c_eval: list[int]) -> list[int]:
    """Coefficients of ``(A·B − C) / (Xⁿ − 1)``, exactly as :func:`ntt.quotient`."""
    n = len(a_eval)
    root_of_unity(n)
    to_coset, from_coset, z_inv = _coset_tables(n)
    h = _quotient(to_mont(a_eval, R), to_mont(b_eval, R), to_mont(c_eval, R), _stage_roots(n, False),
                  _stage_roots(n, True), to_coset, from_coset, z_inv)
    return from_mont(h, R)
