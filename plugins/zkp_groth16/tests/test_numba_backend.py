"""The numba backend equals the pure-Python oracle; its proofs verify with py_ecc and with snarkjs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from aegis_zkp_groth16 import limbs, msm, ntt, ntt_limbs
from aegis_zkp_groth16.bn254 import G1_GEN, G1_ZERO, G2_GEN, G2_ZERO, P, R, g1_affine, g1_eq, g1_neg, g2_eq, g2_neg
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import ProvingKey
from aegis_zkp_groth16.numba_backend import NumbaBackend
from aegis_zkp_groth16.prover import PYTHON, backend_named, prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json, vk_to_json
from aegis_zkp_groth16.verifier import verify
from py_ecc.optimized_bn128 import FQ, FQ2, add, multiply, normalize


@pytest.fixture(scope="module")
def backend() -> NumbaBackend:
    chosen = backend_named("numba")
    assert isinstance(chosen, NumbaBackend)
    return chosen


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261127)


@pytest.mark.parametrize("modulus, n0", [(P, limbs.P_N0), (R, limbs.R_N0)], ids=["Fp", "Fr"])
def test_field_ops_equal_python_ints(rng: random.Random, modulus: int, n0: np.uint64) -> None:
    edges = [0, 1, 2, modulus - 1, modulus - 2, (1 << 255) % modulus, (1 << 32) - 1]
    xs = edges + [rng.randrange(modulus) for _ in range(400)]
    ys = list(reversed(edges)) + [rng.randrange(modulus) for _ in range(400)]
    a, b = limbs.to_mont(xs, modulus), limbs.to_mont(ys, modulus)
    m = limbs.to_limbs([modulus])[0]
    out = np.zeros_like(a)
    limbs.mont_mul_rows(out, a, b, m, n0)
    assert limbs.from_mont(out, modulus) == [x * y % modulus for x, y in zip(xs, ys, strict=True)]
    limbs.add_rows(out, a, b, m)
    assert limbs.from_mont(out, modulus) == [(x + y) % modulus for x, y in zip(xs, ys, strict=True)]
    limbs.sub_rows(out, a, b, m)
    assert limbs.from_mont(out, modulus) == [(x - y) % modulus for x, y in zip(xs, ys, strict=True)]


def _py_ecc(p: tuple[int, int, int]) -> tuple[FQ, FQ, FQ]:
    """A Jacobian point as py_ecc's projective (``x = X/Z``) point."""
    x, y = g1_affine(p)
    return FQ(x), FQ(y), FQ(1)


def test_g1_msm_equals_oracle_and_py_ecc(backend: NumbaBackend, rng: random.Random) -> None:
    points = msm.fixed_base_g1(G1_GEN, [rng.randrange(1, R) for _ in range(300)])
    # a repeated point and its negation hit the bucket's doubling and cancelling branches
    points += [points[0], g1_neg(points[1]), G1_ZERO]
    scalars = [rng.randrange(R) for _ in range(300)] + [0, 0, 5]
    scalars[0:12] = [0, 1, 2, 1, R - 1, 7, 0, 1 << 200, 3, 1, 1 << 253, R + 4]
    scalars[300], scalars[301] = scalars[0] or 9, scalars[1] or 9
    got = backend.msm_g1(points, scalars)
    assert g1_eq(got, msm.msm_g1(points, scalars))
    expected = None
    for p, s in zip(points[:20], scalars[:20], strict=True):
        term = multiply(_py_ecc(p), s % R)
        expected = term if expected is None else add(expected, term)
    assert normalize(_py_ecc(backend.msm_g1(points[:20], scalars[:20]))) == normalize(expected)


def test_g1_msm_edge_cases(backend: NumbaBackend) -> None:
    points = [G1_GEN, g1_neg(G1_GEN)]
    assert backend.msm_g1(points, [0, 0])[2] == 0
    assert backend.msm_g1(points, [5, 5])[2] == 0
    assert g1_eq(backend.msm_g1(points, [R + 3, 1]), msm.msm_g1([G1_GEN], [2]))
    with pytest.raises(ValueError, match="2 points with 1 scalars"):
        backend.msm_g1(points, [1])
    points[1] = msm.msm_g1([G1_GEN], [7])  # the converted-points cache notices an edited list
    assert g1_eq(backend.msm_g1(points, [1, 1]), msm.msm_g1([G1_GEN], [8]))


def test_g2_msm_equals_oracle(backend: NumbaBackend, rng: random.Random) -> None:
    points = msm.fixed_base_g2(G2_GEN, [rng.randrange(1, R) for _ in range(80)])
    points += [points[0], g2_neg(points[1]), G2_ZERO]
    scalars = [rng.randrange(R) for _ in range(80)] + [0, 0, 11]
    scalars[0:5] = [3, 2, 0, 1, R - 1]
    scalars[80], scalars[81] = 3, 2
    got = backend.msm_g2(points, scalars)
    assert g2_eq(got, msm.msm_g2(points, scalars))
    x, y = normalize(multiply((FQ2(list(G2_GEN[0])), FQ2(list(G2_GEN[1])), FQ2([1, 0])), 12345))
    assert g2_eq(backend.msm_g2([G2_GEN, G2_GEN], [12000, 345]),
                 ((x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1]), (1, 0)))


@pytest.mark.parametrize("n", [1, 2, 8, 256])
def test_ntt_equals_oracle(rng: random.Random, n: int) -> None:
    values = [rng.randrange(R) for _ in range(n)]
    assert ntt_limbs.ntt(values) == ntt.ntt(values)
    assert ntt_limbs.ntt(values, inverse=True) == ntt.ntt(values, inverse=True)
    assert ntt_limbs.ntt(ntt_limbs.ntt(values), inverse=True) == values


def test_quotient_equals_oracle(backend: NumbaBackend, rng: random.Random) -> None:
    a, b, c = ([rng.randrange(R) for _ in range(64)] for _ in range(3))
    assert backend.quotient(a, b, c) == PYTHON.quotient(a, b, c)
    with pytest.raises(ValueError, match="power of two"):
        backend.quotient(a[:3], b[:3], c[:3])


def test_backend_names() -> None:
    assert backend_named("python") is PYTHON
    assert backend_named("auto").name == "numba"


def test_numba_proof_verifies_with_py_ecc_and_snarkjs(tmp_path: Path, pk: ProvingKey, signal: RiskSignal,
                                                      backend: NumbaBackend, run_snarkjs) -> None:
    r1cs, w = risk_signal_r1cs(), witness(signal)
    r, s = 0x1234567, 0x89ABCDEF
    proof = prove(pk, r1cs, w, backend, r=r, s=s)
    assert proof == prove(pk, r1cs, w, PYTHON, r=r, s=s)
    proof = prove(pk, r1cs, w, backend)
    assert verify(pk.vk, proof, signal.public_inputs())
    files = {"vk.json": vk_to_json(pk.vk), "proof.json": proof_to_json(proof),
             "public.json": public_to_json(signal.public_inputs())}
    for name, doc in files.items():
        (tmp_path / name).write_text(json.dumps(doc))
    out = run_snarkjs("groth16", "verify", "vk.json", "public.json", "proof.json", cwd=tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
