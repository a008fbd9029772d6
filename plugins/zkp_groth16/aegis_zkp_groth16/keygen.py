"""Groth16 key generation from the set-up secrets ("toxic waste") τ, α, β, γ, δ.

The secrets live only in a :class:`ToxicWaste` object in memory; :meth:`ToxicWaste.wipe`
drops them after use. (CPython cannot overwrite an ``int`` in place: wiping removes every
reference this code holds so the memory is reclaimed; the bytes that seeded them are
zeroed in place.)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from aegis_zkp_groth16.bn254 import G1_GEN, G2_GEN, R
from aegis_zkp_groth16.keys import ProvingKey, VerificationKey, norm_g1, norm_g2
from aegis_zkp_groth16.msm import fixed_base_g1, fixed_base_g2
from aegis_zkp_groth16.ntt import domain_size, root_of_unity
from aegis_zkp_groth16.r1cs import R1CS

NAMES = ("tau", "alpha", "beta", "gamma", "delta")


@dataclass
class ToxicWaste:
    """The five set-up secrets; whoever knows them can forge proofs."""

    tau: int
    alpha: int
    beta: int
    gamma: int
    delta: int

    @classmethod
    def from_entropy(cls, extra: bytes = b"") -> ToxicWaste:
        """Derive the secrets from 64 bytes of OS randomness plus ``extra`` (operator input)."""
        seed = bytearray(os.urandom(64) + hashlib.sha512(extra).digest())
        try:
            values = [derive_scalar(seed, name) for name in NAMES]
        finally:
            seed[:] = bytes(len(seed))
        return cls(*values)

    def wipe(self) -> None:
        for name in NAMES:
            setattr(self, name, 0)


def derive_scalar(seed: bytes | bytearray, label: str) -> int:
    """A non-zero Fr element from ``seed`` and ``label`` (512 hash bits, negligible bias)."""
    k = int.from_bytes(hashlib.sha512(bytes(seed) + label.encode()).digest(), "big") % R
    return k or 1


def wire_polynomials_at(r1cs: R1CS, n: int, tau: int) -> tuple[list[int], list[int], list[int]]:
    """``A_i(τ), B_i(τ), C_i(τ)`` for every wire, with snarkjs' extra rows binding the public inputs."""
    omega = root_of_unity(n)
    z_tau = (pow(tau, n, R) - 1) % R
    roots = [1] * n
    for j in range(1, n):
        roots[j] = roots[j - 1] * omega % R
    n_inv = pow(n, -1, R)
    lagrange = [roots[j] * z_tau % R * n_inv % R * pow((tau - roots[j]) % R, -1, R) % R for j in range(n)]
    m = r1cs.n_wires
    u, v, w = [0] * m, [0] * m, [0] * m
    for j, (a, b, c) in enumerate(r1cs.constraints):
        lj = lagrange[j]
        for i, k in a.items():
            u[i] = (u[i] + k * lj) % R
        for i, k in b.items():
            v[i] = (v[i] + k * lj) % R
        for i, k in c.items():
            w[i] = (w[i] + k * lj) % R
    base = len(r1cs.constraints)
    for i in range(r1cs.n_public + 1):
        u[i] = (u[i] + lagrange[base + i]) % R
    return u, v, w


def qap_rows(r1cs: R1CS) -> int:
    return len(r1cs.constraints) + r1cs.n_public + 1


def generate(r1cs: R1CS, toxic: ToxicWaste) -> ProvingKey:
    """The proving key (verification key inside) for ``r1cs`` under ``toxic``."""
    n = domain_size(qap_rows(r1cs))
    tau, alpha, beta, gamma, delta = toxic.tau, toxic.alpha, toxic.beta, toxic.gamma, toxic.delta
    if tau == 0 or pow(tau, n, R) == 1:
        raise ValueError("τ must not be zero or a root of unity of the domain")
    u, v, w = wire_polynomials_at(r1cs, n, tau)
    gamma_inv, delta_inv = pow(gamma, -1, R), pow(delta, -1, R)
    combined = [(beta * ui + alpha * vi + wi) % R for ui, vi, wi in zip(u, v, w, strict=True)]
    n_pub = r1cs.n_public
    z_over_delta = (pow(tau, n, R) - 1) * delta_inv % R
    h_scalars = []
    t = 1
    for _ in range(n - 1):
        h_scalars.append(t * z_over_delta % R)
        t = t * tau % R
    g1_scalars = ([alpha, beta, delta] + u + v + [c * delta_inv % R for c in combined[n_pub + 1:]]
                  + h_scalars + [c * gamma_inv % R for c in combined[:n_pub + 1]])
    g1 = [norm_g1(p) for p in fixed_base_g1(G1_GEN, g1_scalars)]
    g2 = [norm_g2(p) for p in fixed_base_g2(G2_GEN, [beta, gamma, delta, *v])]
    m = r1cs.n_wires
    alpha1, beta1, delta1 = g1[:3]
    a_q = g1[3:3 + m]
    b1_q = g1[3 + m:3 + 2 * m]
    pos = 3 + 2 * m
    l_q = g1[pos:pos + m - n_pub - 1]
    pos += m - n_pub - 1
    h_q = g1[pos:pos + n - 1]
    ic = g1[pos + n - 1:]
    beta2, gamma2, delta2 = g2[:3]
    vk = VerificationKey(n_pub, alpha1, beta2, gamma2, delta2, ic)
    return ProvingKey(r1cs.digest(), n, alpha1, beta1, beta2, delta1, delta2,
                      a_q, b1_q, g2[3:], l_q, h_q, vk)
