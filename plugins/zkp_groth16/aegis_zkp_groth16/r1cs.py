"""Rank-1 constraint systems over Fr: linear combinations, a builder, and satisfaction checks.

Wire 0 is the constant one, wires ``1 … n_public`` the public inputs, then private inputs and
internal wires (snarkjs' order). The same synthesis code runs in two modes: *build*
records the constraints (values unknown), *witness* computes only the values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from aegis_zkp_groth16.bn254 import R

Terms = dict[int, int]


class LC:
    """A linear combination Σ coeff·wire, carrying its terms (build mode) or its value (witness mode)."""

    __slots__ = ("terms", "value")

    def __init__(self, terms: Terms | None, value: int | None):
        self.terms = terms
        self.value = value

    def __add__(self, other: LC) -> LC:
        terms = None
        if self.terms is not None and other.terms is not None:
            terms = dict(self.terms)
            for w, c in other.terms.items():
                v = (terms.get(w, 0) + c) % R
                if v:
                    terms[w] = v
                else:
                    terms.pop(w, None)
        value = None if self.value is None or other.value is None else (self.value + other.value) % R
        return LC(terms, value)

    def __sub__(self, other: LC) -> LC:
        return self + other.scale(R - 1)

    def scale(self, k: int) -> LC:
        k %= R
        terms = None if self.terms is None else {w: c * k % R for w, c in self.terms.items() if c * k % R}
        return LC(terms, None if self.value is None else self.value * k % R)


@dataclass
class R1CS:
    """Constraints ``(A·w)(B·w) = C·w`` as sparse rows, plus the wire layout."""

    n_public: int
    n_private_inputs: int
    n_wires: int
    constraints: list[tuple[Terms, Terms, Terms]] = field(default_factory=list)

    def digest(self) -> str:
        """sha256 of a canonical encoding: identifies the circuit a key was made for."""
        h = hashlib.sha256(f"{self.n_public},{self.n_private_inputs},{self.n_wires}".encode())
        for row in self.constraints:
            for terms in row:
                h.update(b"|" + ";".join(f"{w}:{c}" for w, c in sorted(terms.items())).encode())
        return h.hexdigest()

    def unsatisfied(self, witness: list[int]) -> list[int]:
        """Indices of the constraints ``witness`` violates (empty when it satisfies all)."""
        if len(witness) != self.n_wires or witness[0] != 1:
            raise ValueError(f"a witness has {self.n_wires} wires starting with 1; got {len(witness)}")
        bad = []
        for i, (a, b, c) in enumerate(self.constraints):
            av = sum(witness[w] * k for w, k in a.items())
            bv = sum(witness[w] * k for w, k in b.items())
            cv = sum(witness[w] * k for w, k in c.items())
            if (av * bv - cv) % R:
                bad.append(i)
        return bad


class ConstraintSystem:
    """Allocates wires and records constraints (``build=True``) or values (``build=False``)."""

    def __init__(self, build: bool):
        self.build = build
        self.values: list[int | None] = [1]
        self.constraints: list[tuple[Terms, Terms, Terms]] = []
        self.n_public = 0
        self.n_private_inputs = 0
        self._inputs_closed = False

    def one(self) -> LC:
        return LC({0: 1} if self.build else None, None if self.build else 1)

    def constant(self, k: int) -> LC:
        return self.one().scale(k)

    def _alloc(self, value: int | None) -> LC:
        wire = len(self.values)
        self.values.append(None if self.build else value % R)
        return LC({wire: 1} if self.build else None, None if self.build else value % R)

    def public(self, value: int | None) -> LC:
        if self.n_private_inputs or self._inputs_closed:
            raise RuntimeError("public inputs are allocated before every other wire")
        self.n_public += 1
        return self._alloc(value)

    def private_input(self, value: int | None) -> LC:
        if self._inputs_closed:
            raise RuntimeError("private inputs are allocated before internal wires")
        self.n_private_inputs += 1
        return self._alloc(value)

    def internal(self, value: int | None) -> LC:
        self._inputs_closed = True
        return self._alloc(value)

    def enforce(self, a: LC, b: LC, c: LC) -> None:
        if self.build:
            self.constraints.append((dict(a.terms or {}), dict(b.terms or {}), dict(c.terms or {})))

    def mul(self, a: LC, b: LC) -> LC:
        out = self.internal(None if self.build else a.value * b.value)
        self.enforce(a, b, out)
        return out

    def bits(self, x: LC, n: int) -> list[LC]:
        """Decompose ``x`` into ``n`` boolean wires whose weighted sum must equal ``x``."""
        value = None if self.build else x.value
        bits = [self.internal(None if value is None else (value >> i) & 1) for i in range(n)]
        total = self.constant(0)
        for i, b in enumerate(bits):
            self.enforce(b, b - self.one(), self.constant(0))
            total = total + b.scale(1 << i)
        self.enforce(total, self.one(), x)
        return bits

    def r1cs(self) -> R1CS:
        return R1CS(self.n_public, self.n_private_inputs, len(self.values), self.constraints)

    def witness(self) -> list[int]:
        return [int(v) for v in self.values]  # type: ignore[arg-type]
