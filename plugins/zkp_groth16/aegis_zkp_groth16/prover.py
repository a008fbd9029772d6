"""The Groth16 prover: witness → proof, on a pluggable arithmetic backend (Python or numba)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Protocol

from aegis_zkp_groth16 import ntt
from aegis_zkp_groth16.bn254 import R, g1_add, g1_mul, g1_neg, g2_add, g2_mul
from aegis_zkp_groth16.keys import G1, G2, Proof, ProvingKey, norm_g1, norm_g2
from aegis_zkp_groth16.msm import msm_g1, msm_g2
from aegis_zkp_groth16.r1cs import R1CS


class UnsatisfiedWitness(ValueError):
    """The witness violates the statement: there is nothing true to prove."""


class Backend(Protocol):
    name: str

    def msm_g1(self, points: Sequence[G1], scalars: Sequence[int]) -> G1: ...

    def msm_g2(self, points: Sequence[G2], scalars: Sequence[int]) -> G2: ...

    def quotient(self, a: list[int], b: list[int], c: list[int]) -> list[int]: ...


class PythonBackend:
    """Plain-integer arithmetic: the oracle for the numba backend."""

    name = "python"

    def msm_g1(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        return msm_g1(points, scalars)

    def msm_g2(self, points: Sequence[G2], scalars: Sequence[int]) -> G2:
        return msm_g2(points, scalars)

    def quotient(self, a: list[int], b: list[int], c: list[int]) -> list[int]:
        return ntt.quotient(a, b, c)


PYTHON = PythonBackend()


def constraint_evaluations(r1cs: R1CS, witness: list[int], n: int) -> tuple[list[int], list[int], list[int]]:
    """``A·w, B·w, C·w`` per QAP row (constraints, then one row per public wire, then zeros)."""
    a, b, c = [0] * n, [0] * n, [0] * n
    for j, (ta, tb, tc) in enumerate(r1cs.constraints):
        a[j] = sum(witness[i] * k for i, k in ta.items()) % R
        b[j] = sum(witness[i] * k for i, k in tb.items()) % R
        c[j] = sum(witness[i] * k for i, k in tc.items()) % R
    base = len(r1cs.constraints)
    for i in range(r1cs.n_public + 1):
        a[base + i] = witness[i] % R
    return a, b, c


def prove(pk: ProvingKey, r1cs: R1CS, witness: list[int], backend: Backend = PYTHON,
          r: int | None = None, s: int | None = None) -> Proof:
    """A proof that ``witness`` satisfies ``r1cs``; refuses (:class:`UnsatisfiedWitness`) otherwise."""
    if pk.circuit != r1cs.digest():
        raise ValueError("the proving key was made for another circuit")
    bad = r1cs.unsatisfied(witness)
    if bad:
        raise UnsatisfiedWitness(f"the witness violates {len(bad)} constraint(s), first #{bad[0]}: "
                                 "the statement does not hold for these inputs")
    n = pk.domain_size
    a_ev, b_ev, c_ev = constraint_evaluations(r1cs, witness, n)
    h = backend.quotient(a_ev, b_ev, c_ev)
    if h[n - 1]:
        raise UnsatisfiedWitness("A·B − C is not divisible by the vanishing polynomial")
    r = secrets.randbelow(R - 1) + 1 if r is None else r
    s = secrets.randbelow(R - 1) + 1 if s is None else s
    n_pub = pk.vk.n_public
    a = g1_add(g1_add(pk.alpha1, backend.msm_g1(pk.a_query, witness)), g1_mul(pk.delta1, r))
    b2 = g2_add(g2_add(pk.beta2, backend.msm_g2(pk.b2_query, witness)), g2_mul(pk.delta2, s))
    b1 = g1_add(g1_add(pk.beta1, backend.msm_g1(pk.b1_query, witness)), g1_mul(pk.delta1, s))
    c = g1_add(backend.msm_g1(pk.l_query, witness[n_pub + 1:]), backend.msm_g1(pk.h_query, h[:n - 1]))
    c = g1_add(c, g1_mul(a, s))
    c = g1_add(c, g1_mul(b1, r))
    c = g1_add(c, g1_neg(g1_mul(pk.delta1, r * s % R)))
    return Proof(norm_g1(a), norm_g2(b2), norm_g1(c))
