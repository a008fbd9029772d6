"""Poseidon over the BN254 scalar field, circomlib-compatible (x⁵ S-box, 8 full rounds).

Round constants and the Cauchy MDS matrix come from the Grain LFSR of the Poseidon
reference script (``generate_parameters_grain.sage 1 0 254 t 8 R_P``), which is how
circomlib and circomlibjs obtained theirs; a test checks the hash against circomlibjs.
"""

from __future__ import annotations

from functools import cache

from aegis_zkp_groth16.bn254 import R

FULL_ROUNDS = 8
PARTIAL_ROUNDS = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
"""circomlib's partial-round counts for t = 2 … 17 (index t − 2)."""


def _bits(value: int, width: int) -> list[int]:
    return [(value >> i) & 1 for i in range(width - 1, -1, -1)]


class _Grain:
    """The self-shrinking Grain LFSR that seeds Poseidon's parameters."""

    def __init__(self, t: int, partial: int, field_bits: int = 254):
        self.state = (_bits(1, 2) + _bits(0, 4) + _bits(field_bits, 12) + _bits(t, 12)
                      + _bits(FULL_ROUNDS, 10) + _bits(partial, 10) + [1] * 30)
        for _ in range(160):
            self._step()

    def _step(self) -> int:
        s = self.state
        bit = s[62] ^ s[51] ^ s[38] ^ s[23] ^ s[13] ^ s[0]
        s.pop(0)
        s.append(bit)
        return bit

    def bit(self) -> int:
        while True:
            first = self._step()
            second = self._step()
            if first:
                return second

    def integer(self, width: int) -> int:
        value = 0
        for _ in range(width):
            value = (value << 1) | self.bit()
        return value

    def field_element(self, width: int = 254) -> int:
        while True:
            value = self.integer(width)
            if value < R:
                return value


@cache
def parameters(t: int) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """Round constants (flat, ``(8 + R_P)·t``) and the t×t MDS matrix for width ``t``."""
    partial = PARTIAL_ROUNDS[t - 2]
    grain = _Grain(t, partial)
    constants = tuple(grain.field_element() for _ in range((FULL_ROUNDS + partial) * t))
    while True:
        values = [grain.integer(254) % R for _ in range(2 * t)]
        if len(set(values)) == 2 * t:
            break
    xs, ys = values[:t], values[t:]
    mds = tuple(tuple(pow((x + y) % R, -1, R) for y in ys) for x in xs)
    return constants, mds


def is_full_round(t: int, r: int) -> bool:
    half = FULL_ROUNDS // 2
    return r < half or r >= half + PARTIAL_ROUNDS[t - 2]


def poseidon(inputs: list[int]) -> int:
    """Poseidon hash of 1 … 16 field elements (circomlib's ``Poseidon(n)``)."""
    t = len(inputs) + 1
    if not 2 <= t <= 17:
        raise ValueError(f"poseidon takes 1 to 16 inputs, got {len(inputs)}")
    constants, mds = parameters(t)
    state = [0] + [v % R for v in inputs]
    for r in range(FULL_ROUNDS + PARTIAL_ROUNDS[t - 2]):
        state = [(s + constants[r * t + i]) % R for i, s in enumerate(state)]
        if is_full_round(t, r):
            state = [pow(s, 5, R) for s in state]
        else:
            state[0] = pow(state[0], 5, R)
        state = [sum(m * s for m, s in zip(row, state, strict=True)) % R for row in mds]
    return state[0]
