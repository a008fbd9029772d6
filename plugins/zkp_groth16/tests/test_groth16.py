"""Prover and verifier: completeness, soundness checks, batch verification, key files."""

from __future__ import annotations

import pytest
from aegis_zkp_groth16.bn254 import G1_GEN, G2_GEN, g1_mul, g2_mul
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import (
    KeyFileError,
    Proof,
    ProvingKey,
    pk_from_bytes,
    pk_to_bytes,
    vk_from_bytes,
    vk_to_bytes,
)
from aegis_zkp_groth16.prover import UnsatisfiedWitness, prove
from aegis_zkp_groth16.verifier import InvalidProof, verify, verify_batch


@pytest.fixture(scope="module")
def proved(pk: ProvingKey) -> tuple[Proof, list[int]]:
    s = RiskSignal(tuple(range(100, 108)), 987654321, (1000,) * 8, 800_000)
    return prove(pk, risk_signal_r1cs(), witness(s)), s.public_inputs()


def test_valid_proof_verifies(pk: ProvingKey, proved) -> None:
    proof, public = proved
    assert verify(pk.vk, proof, public)


@pytest.mark.parametrize("index", [0, 3, 9])
def test_changed_public_input_is_rejected(pk: ProvingKey, proved, index: int) -> None:
    proof, public = proved
    changed = list(public)
    changed[index] += 1
    assert not verify(pk.vk, proof, changed)


def test_changed_proof_element_is_rejected(pk: ProvingKey, proved) -> None:
    proof, public = proved
    assert not verify(pk.vk, Proof(proof.c, proof.b, proof.a), public)
    assert not verify(pk.vk, Proof(g1_mul(proof.a, 2), proof.b, proof.c), public)


def test_forged_proof_fails(pk: ProvingKey, proved) -> None:
    _, public = proved
    forged = Proof(g1_mul(G1_GEN, 12345), g2_mul(G2_GEN, 678), g1_mul(G1_GEN, 91011))
    assert not verify(pk.vk, forged, public)


def test_point_off_curve_is_invalid(pk: ProvingKey, proved) -> None:
    proof, public = proved
    with pytest.raises(InvalidProof, match="pi_a"):
        verify(pk.vk, Proof((1, 3, 1), proof.b, proof.c), public)


def test_prover_refuses_false_statement(pk: ProvingKey) -> None:
    s = RiskSignal(tuple(range(100, 108)), 1, (1000,) * 8, 900_000)
    with pytest.raises(UnsatisfiedWitness, match="violates"):
        prove(pk, risk_signal_r1cs(), witness(s))


def test_proofs_are_randomised(pk: ProvingKey, proved) -> None:
    proof, public = proved
    s = RiskSignal(tuple(range(100, 108)), 987654321, (1000,) * 8, 800_000)
    again = prove(pk, risk_signal_r1cs(), witness(s))
    assert again.a != proof.a
    assert verify(pk.vk, again, public)


def test_batch_verification(pk: ProvingKey, proved) -> None:
    proof, public = proved
    assert verify_batch(pk.vk, [(proof, public)] * 3)
    bad = list(public)
    bad[1] += 1
    assert not verify_batch(pk.vk, [(proof, public), (proof, bad), (proof, public)])


def test_key_files_round_trip(pk: ProvingKey) -> None:
    assert pk_from_bytes(pk_to_bytes(pk)) == pk
    assert vk_from_bytes(vk_to_bytes(pk.vk)) == pk.vk
    data = bytearray(vk_to_bytes(pk.vk))
    data[-5] ^= 1
    with pytest.raises(KeyFileError, match="not on the curve"):
        vk_from_bytes(bytes(data))
