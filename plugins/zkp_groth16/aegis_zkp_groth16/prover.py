"""The Groth16 prover: witness → proof, on a pluggable arithmetic backend (Python or numba)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Literal, Protocol

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

    def g1_mul(self, point: G1, k: int) -> G1: ...

    def g2_mul(self, point: G2, k: int) -> G2: ...


class PythonBackend:
    """Plain-integer arithmetic: the oracle for the numba backend."""

    name = "python"

    def msm_g1(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        return msm_g1(points, scalars)

    def msm_g2(self, points: Sequence[G2], scalars: Sequence[int]) -> G2:
        return msm_g2(points, scalars)

    def quotient(self, a: list[int], b: list[int], c: list[int]) -> list[int]:
        return ntt.quotient(a, b, c)

    def g1_mul(self, point: G1, k: int) -> G1:
        return g1_mul(point, k)

    def g2_mul(self, point: G2, k: int) -> G2:
        return g2_mul(point, k)


PYTHON = PythonBackend()
BackendName = Literal["auto", "numba", "python"]
log = logging.getLogger("aegis.proving.groth16")


def backend_named(name: BackendName) -> Backend:
    """A warmed backend: ``python``, ``numba``, or ``auto`` (numba when it imports and compiles, else python).

    Warming compiles numba's kernels, or loads them from its on-disk cache, so no proof pays the compile.
    """
    if name == "python":
        return PYTHON
    try:
        from aegis_zkp_groth16.numba_backend import NumbaBackend, warm_up

        backend = NumbaBackend()
        warm_up(backend)
        return backend
    except Exception as exc:  # numba missing or failing to compile: only fatal when asked for by name
        if name == "numba":
            raise RuntimeError(f"zkp: prover backend 'numba' does not work here: {exc}") from exc
        log.warning("zkp: numba prover backend unavailable (%s); proving in pure Python", exc)
        return PYTHON


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


_DIGESTS: dict[int, tuple[R1CS, int, str]] = {}


def _circuit_digest(r1cs: R1CS) -> str:
    """``r1cs.digest()``, remembered per circuit object (hashing every row costs milliseconds per proof)."""
    hit = _DIGESTS.get(id(r1cs))
    if hit is None or hit[0] is not r1cs or hit[1] != len(r1cs.constraints):
        hit = _DIGESTS[id(r1cs)] = (r1cs, len(r1cs.constraints), r1cs.digest())
    return hit[2]


def prove(pk: ProvingKey, r1cs: R1CS, witness: list[int], backend: Backend = PYTHON,
          r: int | None = None, s: int | None = None) -> Proof:
    """A proof that ``witness`` satisfies ``r1cs``; refuses (:class:`UnsatisfiedWitness`) otherwise."""
    if pk.circuit != _circuit_digest(r1cs):
        raise ValueError("the proving key was made for another circuit")
    if len(witness) != r1cs.n_wires or witness[0] != 1:
        raise ValueError(f"a witness has {r1cs.n_wires} wires starting with 1; got {len(witness)}")
    n = pk.domain_size
    a_ev, b_ev, c_ev = constraint_evaluations(r1cs, witness, n)
    bad = [j for j in range(len(r1cs.constraints)) if (a_ev[j] * b_ev[j] - c_ev[j]) % R]
    if bad:
        raise UnsatisfiedWitness(f"the witness violates {len(bad)} constraint(s), first #{bad[0]}: "
                                 "the statement does not hold for these inputs")
    h = backend.quotient(a_ev, b_ev, c_ev)
    if h[n - 1]:
        raise UnsatisfiedWitness("A·B − C is not divisible by the vanishing polynomial")
    r = secrets.randbelow(R - 1) + 1 if r is None else r
    s = secrets.randbelow(R - 1) + 1 if s is None else s
    n_pub = pk.vk.n_public
    a = g1_add(g1_add(pk.alpha1, backend.msm_g1(pk.a_query, witness)), backend.g1_mul(pk.delta1, r))
    b2 = g2_add(g2_add(pk.beta2, backend.msm_g2(pk.b2_query, witness)), backend.g2_mul(pk.delta2, s))
    b1 = g1_add(g1_add(pk.beta1, backend.msm_g1(pk.b1_query, witness)), backend.g1_mul(pk.delta1, s))
    c = g1_add(backend.msm_g1(pk.l_query, witness[n_pub + 1:]), backend.msm_g1(pk.h_query, h[:n - 1]))
    c = g1_add(c, backend.g1_mul(a, s))
    c = g1_add(c, backend.g1_mul(b1, r))
    c = g1_add(c, g1_neg(backend.g1_mul(pk.delta1, r * s % R)))
    return Proof(norm_g1(a), norm_g2(b2), norm_g1(c))
