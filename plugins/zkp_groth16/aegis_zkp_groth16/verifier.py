"""Groth16 verification with py_ecc pairings: one proof, or many sharing one final exponentiation."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import final_exponentiate, pairing

from aegis_zkp_groth16.bn254 import (
    P,
    R,
    g1_add,
    g1_mul,
    g1_neg,
    g1_on_curve,
    g2_in_subgroup,
    g2_on_curve,
)
from aegis_zkp_groth16.keys import G1, G2, Proof, VerificationKey, norm_g1, norm_g2
from aegis_zkp_groth16.msm import msm_g1


class InvalidProof(ValueError):
    """A proof or its public inputs are malformed (not merely false)."""


def _fq_g1(p: G1) -> tuple:
    return (FQ(p[0]), FQ(p[1]), FQ(p[2]))


def _fq_g2(p: G2) -> tuple:
    return (FQ2(list(p[0])), FQ2(list(p[1])), FQ2(list(p[2])))


def _miller(q: G2, p: G1) -> FQ12:
    if p[2] == 0 or q[2] == (0, 0):
        return FQ12.one()
    p, q = norm_g1(p), norm_g2(q)  # py_ecc's points are homogeneous, ours Jacobian: pass Z = 1
    return pairing(_fq_g2(q), _fq_g1(p), final_exponentiate=False)


def check_points(proof: Proof) -> None:
    """Refuse points off the curve or (for B) outside the order-r subgroup of G2."""
    for name, p in (("pi_a", proof.a), ("pi_c", proof.c)):
        if any(not 0 <= v < P for v in p) or not g1_on_curve(p):
            raise InvalidProof(f"{name} is not a point of G1")
    b = proof.b
    if any(not 0 <= v < P for pair in b for v in pair) or not g2_on_curve(b):
        raise InvalidProof("pi_b is not a point of the BN254 twist")
    if not g2_in_subgroup(b):
        raise InvalidProof("pi_b is not in the order-r subgroup of G2")


def public_point(vk: VerificationKey, public_inputs: Sequence[int]) -> G1:
    """``vk_x = IC₀ + Σ publicᵢ·ICᵢ``."""
    if len(public_inputs) != vk.n_public:
        raise InvalidProof(f"expected {vk.n_public} public inputs, got {len(public_inputs)}")
    if any(not 0 <= x < R for x in public_inputs):
        raise InvalidProof("a public input is not an element of the scalar field")
    return norm_g1(g1_add(vk.ic[0], msm_g1(vk.ic[1:], list(public_inputs))))


def verify(vk: VerificationKey, proof: Proof, public_inputs: Sequence[int]) -> bool:
    """``e(−A, B)·e(α, β)·e(vk_x, γ)·e(C, δ) = 1`` (four Miller loops, one final exponentiation)."""
    check_points(proof)
    vk_x = public_point(vk, public_inputs)
    f = (_miller(proof.b, g1_neg(proof.a)) * _miller(vk.beta2, vk.alpha1)
         * _miller(vk.gamma2, vk_x) * _miller(vk.delta2, proof.c))
    return final_exponentiate(f) == FQ12.one()


def verify_batch(vk: VerificationKey, items: Sequence[tuple[Proof, Sequence[int]]]) -> bool:
    """All proofs valid, checked as one random linear combination (k + 3 Miller loops, one exponentiation).

    With 128-bit random coefficients a batch holding a false proof passes with probability
    at most 2⁻¹²⁸; a ``False`` does not say which proof failed (re-check them one by one).
    """
    if not items:
        return True
    f = FQ12.one()
    alpha_sum = 0
    vk_x_acc: G1 = (1, 1, 0)
    c_acc: G1 = (1, 1, 0)
    for proof, public_inputs in items:
        check_points(proof)
        rho = secrets.randbits(128) | 1
        alpha_sum += rho
        vk_x_acc = g1_add(vk_x_acc, g1_mul(public_point(vk, public_inputs), rho))
        c_acc = g1_add(c_acc, g1_mul(proof.c, rho))
        f = f * _miller(proof.b, norm_g1(g1_neg(g1_mul(proof.a, rho))))
    f = f * _miller(vk.beta2, norm_g1(g1_mul(vk.alpha1, alpha_sum % R)))
    f = f * _miller(vk.gamma2, norm_g1(vk_x_acc)) * _miller(vk.delta2, norm_g1(c_acc))
    return final_exponentiate(f) == FQ12.one()
