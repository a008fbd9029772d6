"""``prepare``: from the phase-1 powers of τ to the circuit's proving key with δ = γ = 1.

Deterministic, so anyone can recompute it. The Lagrange basis ``L_j(τ)·G`` comes from an inverse FFT
over group elements (``n·L_j(τ)·G = Σᵢ ω^(−ij)·τⁱ·G``; the 1/n is folded into the wire coefficients),
then per wire ``A_i(τ), B_i(τ), C_i(τ)`` exactly as :func:`keygen.wire_polynomials_at` builds them,
including the extra rows that bind the public inputs.
"""

from __future__ import annotations

import numpy as np

from aegis_zkp_groth16.bn254 import G1_GEN, G2_GEN, R, g1_add, g1_neg
from aegis_zkp_groth16.ceremony_transcript import Phase1State
from aegis_zkp_groth16.keygen import qap_rows
from aegis_zkp_groth16.keys import ProvingKey, VerificationKey, norm_g1
from aegis_zkp_groth16.ntt import domain_size, root_of_unity
from aegis_zkp_groth16.point_scaling import (
    SparseTerms,
    fft_g1,
    fft_g2,
    fft_twiddles,
    g1_array,
    g1_points,
    g2_array,
    g2_points,
    sparse_g1,
    sparse_g2,
)
from aegis_zkp_groth16.r1cs import R1CS


def wire_terms(r1cs: R1CS, n: int) -> tuple[list[list[tuple[int, int]]], ...]:
    """Per wire, ``(row, coefficient/n)`` for A (with the public-input rows), B and C."""
    n_inv = pow(n, -1, R)
    m = r1cs.n_wires
    u: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    v: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    w: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    for j, (a, b, c) in enumerate(r1cs.constraints):
        for i, k in a.items():
            u[i].append((j, k * n_inv % R))
        for i, k in b.items():
            v[i].append((j, k * n_inv % R))
        for i, k in c.items():
            w[i].append((j, k * n_inv % R))
    base = len(r1cs.constraints)
    for i in range(r1cs.n_public + 1):
        u[i].append((base + i, n_inv))
    return u, v, w


def prepare_key(r1cs: R1CS, phase1: Phase1State) -> ProvingKey:
    """The phase-2 starting key (δ = 1, γ = 1) for ``r1cs`` from the final powers of τ."""
    n = domain_size(qap_rows(r1cs))
    if len(phase1.tau_g2) != n:
        raise ValueError(f"the powers of τ are for a domain of {len(phase1.tau_g2)}, the circuit needs {n}")
    twiddles = fft_twiddles(pow(root_of_unity(n), -1, R), n)
    lagrange = fft_g1(g1_array(phase1.tau_g1[:n]), twiddles)
    lagrange_alpha = fft_g1(g1_array(phase1.alpha_g1), twiddles)
    lagrange_beta = fft_g1(g1_array(phase1.beta_g1), twiddles)
    lagrange_g2 = fft_g2(g2_array(phase1.tau_g2), twiddles)
    u, v, w = wire_terms(r1cs, n)
    a_query = g1_points(sparse_g1(lagrange, SparseTerms(u)))
    b1_query = g1_points(sparse_g1(lagrange, SparseTerms(v)))
    b2_query = g2_points(sparse_g2(lagrange_g2, SparseTerms(v)))
    # β·A_i + α·B_i + C_i over the stacked bases [β·L ; α·L ; L]
    combined_terms = [[*ui, *((n + j, k) for j, k in vi), *((2 * n + j, k) for j, k in wi)]
                      for ui, vi, wi in zip(u, v, w, strict=True)]
    stacked = np.concatenate([lagrange_beta, lagrange_alpha, lagrange])
    combined = g1_points(sparse_g1(stacked, SparseTerms(combined_terms)))
    n_pub = r1cs.n_public
    h_query = [norm_g1(g1_add(phase1.tau_g1[i + n], g1_neg(phase1.tau_g1[i]))) for i in range(n - 1)]
    alpha1, beta1, beta2 = phase1.alpha_g1[0], phase1.beta_g1[0], phase1.beta_g2
    vk = VerificationKey(n_pub, alpha1, beta2, G2_GEN, G2_GEN, combined[:n_pub + 1])
    return ProvingKey(r1cs.digest(), n, alpha1, beta1, beta2, G1_GEN, G2_GEN, a_query, b1_query, b2_query,
                      combined[n_pub + 1:], h_query, vk)
