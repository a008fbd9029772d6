"""Number-theoretic transforms over Fr on plain integers (radix-2, in place)."""

from __future__ import annotations

from aegis_zkp_groth16.bn254 import R

GENERATOR = 5
"""A generator of Fr*: its powers give the roots of unity and the coset shift."""
TWO_ADICITY = 28


def root_of_unity(n: int) -> int:
    """A primitive ``n``-th root of unity (``n`` a power of two up to 2^28)."""
    if n & (n - 1) or not 1 <= n <= 1 << TWO_ADICITY:
        raise ValueError(f"NTT size must be a power of two up to 2^{TWO_ADICITY}, got {n}")
    return pow(GENERATOR, (R - 1) // n, R)


def domain_size(rows: int) -> int:
    n = 1
    while n < rows:
        n <<= 1
    return n


def ntt(values: list[int], inverse: bool = False) -> list[int]:
    """Evaluations ↔ coefficients on the ``len(values)``-th roots of unity."""
    n = len(values)
    a = list(values)
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    w_n = root_of_unity(n)
    if inverse:
        w_n = pow(w_n, -1, R)
    length = 2
    while length <= n:
        w_len = pow(w_n, n // length, R)
        half = length >> 1
        twiddles = [1] * half
        for k in range(1, half):
            twiddles[k] = twiddles[k - 1] * w_len % R
        for start in range(0, n, length):
            for k in range(half):
                u = a[start + k]
                v = a[start + k + half] * twiddles[k] % R
                a[start + k] = (u + v) % R
                a[start + k + half] = (u - v) % R
        length <<= 1
    if inverse:
        n_inv = pow(n, -1, R)
        a = [x * n_inv % R for x in a]
    return a


def quotient(a_eval: list[int], b_eval: list[int], c_eval: list[int]) -> list[int]:
    """Coefficients of ``h = (A·B − C) / (Xⁿ − 1)`` from evaluations on the n-th roots of unity.

    Evaluates on the coset ``GENERATOR·⟨ω⟩`` where the vanishing polynomial is the constant
    ``GENERATOR^n − 1``. The result has ``n`` coefficients; the last is zero when the
    evaluations come from a satisfying witness.
    """
    n = len(a_eval)
    shifts = [1] * n
    for i in range(1, n):
        shifts[i] = shifts[i - 1] * GENERATOR % R
    coset = []
    for ev in (a_eval, b_eval, c_eval):
        coef = ntt(ev, inverse=True)
        coset.append(ntt([c * s % R for c, s in zip(coef, shifts, strict=True)]))
    z_inv = pow((pow(GENERATOR, n, R) - 1) % R, -1, R)
    h_coset = [(a * b - c) * z_inv % R for a, b, c in zip(*coset, strict=True)]
    h = ntt(h_coset, inverse=True)
    g_inv = pow(GENERATOR, -1, R)
    scale = 1
    for i in range(n):
        h[i] = h[i] * scale % R
        scale = scale * g_inv % R
    return h
