"""The risk-signal R1CS: size, Poseidon against circomlibjs, and which witnesses satisfy it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from aegis_zkp_groth16.circuit import RiskSignal, commit, risk_signal_r1cs, witness
from aegis_zkp_groth16.poseidon import poseidon


def test_statement_size_and_layout() -> None:
    r1cs = risk_signal_r1cs()
    assert r1cs.n_public == 10
    assert r1cs.n_private_inputs == 9
    assert len(r1cs.constraints) == 758
    assert r1cs.n_wires == 768


def test_poseidon_matches_circomlibjs(snarkjs: Path, plugin_dir: Path) -> None:
    script = ("const {buildPoseidonReference}=require('circomlibjs');(async()=>{const p=await "
              "buildPoseidonReference();console.log(p.F.toString(p([1,2])));"
              "console.log(p.F.toString(p([11,22,33,44,55,66,77,88,99])));})()")
    out = subprocess.run(["node", "-e", script], cwd=plugin_dir, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(poseidon([1, 2])), str(commit([11, 22, 33, 44, 55, 66, 77, 88], 99))]


def test_true_statement_satisfies(signal: RiskSignal) -> None:
    assert risk_signal_r1cs().unsatisfied(witness(signal)) == []


def test_score_below_threshold_violates(signal: RiskSignal) -> None:
    low = RiskSignal(signal.features, signal.salt, signal.weights, signal.score + 1)
    assert risk_signal_r1cs().unsatisfied(witness(low)) != []


def test_feature_out_of_range_violates(signal: RiskSignal) -> None:
    big = RiskSignal((1 << 32, *signal.features[1:]), signal.salt, signal.weights, 0)
    assert risk_signal_r1cs().unsatisfied(witness(big)) != []


def test_wrong_commitment_violates(signal: RiskSignal) -> None:
    w = witness(signal)
    w[10] = (w[10] + 1)  # the commitment is public input 10
    assert risk_signal_r1cs().unsatisfied(w) != []
