"""Interoperability with snarkjs in both directions, and tampering rejected by both verifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import ProvingKey
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_files import write_r1cs, write_wtns
from aegis_zkp_groth16.snarkjs_json import (
    proof_from_json,
    proof_to_json,
    public_from_json,
    public_to_json,
    vk_from_json,
    vk_to_json,
)
from aegis_zkp_groth16.verifier import verify


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_snarkjs_accepts_aegis_proof(tmp_path: Path, pk: ProvingKey, signal: RiskSignal, run_snarkjs) -> None:
    proof = prove(pk, risk_signal_r1cs(), witness(signal))
    vk = _write(tmp_path / "verification_key.json", vk_to_json(pk.vk))
    pf = _write(tmp_path / "proof.json", proof_to_json(proof))
    pub = _write(tmp_path / "public.json", public_to_json(signal.public_inputs()))
    ok = run_snarkjs("groth16", "verify", vk, pub, pf, cwd=tmp_path)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr
    tampered = signal.public_inputs()
    tampered[0] -= 1
    bad = _write(tmp_path / "bad_public.json", public_to_json(tampered))
    rejected = run_snarkjs("groth16", "verify", vk, bad, pf, cwd=tmp_path)
    assert rejected.returncode != 0 and "Invalid proof" in rejected.stdout + rejected.stderr
    assert not verify(pk.vk, proof, tampered)


@pytest.fixture(scope="module")
def snarkjs_proof(tmp_path_factory, run_snarkjs, ptau: Path) -> tuple[Path, dict, dict, list[str]]:
    """snarkjs' own set-up on the Aegis R1CS, and snarkjs' proof from an Aegis witness."""
    d = tmp_path_factory.mktemp("snarkjs")
    s = RiskSignal(tuple(range(100, 108)), 987654321, (1000,) * 8, 800_000)
    write_r1cs(d / "risk.r1cs", risk_signal_r1cs())
    write_wtns(d / "risk.wtns", witness(s))
    for args in (("wtns", "check", "risk.r1cs", "risk.wtns"),
                 ("groth16", "setup", "risk.r1cs", ptau, "risk.zkey"),
                 ("zkey", "export", "verificationkey", "risk.zkey", "vk.json"),
                 ("groth16", "prove", "risk.zkey", "risk.wtns", "proof.json", "public.json")):
        out = run_snarkjs(*args, cwd=d)
        assert out.returncode == 0, f"snarkjs {' '.join(map(str, args))}: {out.stdout}{out.stderr}"
    return (d, json.loads((d / "vk.json").read_text()), json.loads((d / "proof.json").read_text()),
            json.loads((d / "public.json").read_text()))


def test_aegis_accepts_snarkjs_proof(snarkjs_proof) -> None:
    _, vk, proof, public = snarkjs_proof
    assert public_from_json(public) == RiskSignal(tuple(range(100, 108)), 987654321, (1000,) * 8,
                                                  800_000).public_inputs()
    assert verify(vk_from_json(vk), proof_from_json(proof), public_from_json(public))


def test_changed_snarkjs_proof_rejected_by_both(snarkjs_proof, run_snarkjs) -> None:
    d, vk, proof, public = snarkjs_proof
    changed = dict(proof, pi_a=proof["pi_c"], pi_c=proof["pi_a"])
    assert not verify(vk_from_json(vk), proof_from_json(changed), public_from_json(public))
    out = run_snarkjs("groth16", "verify", "vk.json", "public.json", _write(d / "changed.json", changed), cwd=d)
    assert out.returncode != 0
    bad_public = [str(int(public[0]) + 1), *public[1:]]
    assert not verify(vk_from_json(vk), proof_from_json(proof), public_from_json(bad_public))
    out = run_snarkjs("groth16", "verify", "vk.json", _write(d / "bad.json", bad_public), "proof.json", cwd=d)
    assert out.returncode != 0
