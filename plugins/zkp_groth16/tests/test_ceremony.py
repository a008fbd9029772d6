"""The multi-party ceremony: the CLI chain end to end, an oracle against keygen, tampering, secrets on disk."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aegis_zkp_groth16 import ceremony_proofs
from aegis_zkp_groth16.artifacts import LOG, PROVING_KEY, VERIFICATION_KEY_JSON
from aegis_zkp_groth16.bn254 import (
    B2,
    G1_GEN,
    G2_GEN,
    P,
    R,
    f2_add,
    f2_mul,
    g1_eq,
    g1_mul,
    g1_on_curve,
    g2_eq,
    g2_in_subgroup,
    g2_mul,
    g2_on_curve,
)
from aegis_zkp_groth16.ceremony import contribute, init, prepare
from aegis_zkp_groth16.ceremony_proofs import KnowledgeProof, Secrets, hash_to_g1
from aegis_zkp_groth16.ceremony_transcript import Transcript, load, phase2_digest
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.cli import ceremony
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.keys import norm_g1, pk_from_bytes, pk_to_bytes
from aegis_zkp_groth16.point_scaling import scalar_limbs, scale_g1, scale_g2, subgroup_failures_g2
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json
from aegis_zkp_groth16.verifier import verify
from click.testing import CliRunner

FATF = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "country_risk" / "fatf_lists.csv").resolve()
HASH = re.compile(r"contribution hash: ([0-9a-f]{64})")


@dataclass
class CeremonyRun:
    dir: Path
    phase1: Path  # after alice, bob and the phase-1 beacon
    final: Path  # after prepare, carol and the phase-2 beacon
    keys: Path
    hashes: list[str]
    verify_output: str
    secrets: list[int]


def _invoke(*args: object, input: str | None = None) -> str:
    result = CliRunner().invoke(ceremony, [str(a) for a in args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CeremonyRun:
    """init → alice → bob (typed entropy) → beacon → prepare → carol → beacon → verify → finalize, via the CLI.

    The seam around ``Secrets.from_entropy`` copies each contribution's secrets for the on-disk scan.
    """
    d = tmp_path_factory.mktemp("ceremony")
    captured: list[int] = []
    original = Secrets.from_entropy.__func__  # type: ignore[attr-defined]

    def exposing(cls: type[Secrets], labels: tuple[str, ...], extra: bytes = b"") -> Secrets:
        secrets = original(cls, labels, extra)
        captured.extend(secrets.values.values())
        return secrets

    t = [d / f"t{i}.ceremony" for i in range(7)]
    hashes = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ceremony_proofs.Secrets, "from_entropy", classmethod(exposing))
        mp.setenv("AEGIS_SECURITY_MODE", "permissive")
        _invoke("init", t[0])
        hashes += HASH.findall(_invoke("contribute", t[0], t[1], "--name", "alice"))
        hashes += HASH.findall(_invoke("contribute", t[1], t[2], "--name", "bob", "--interactive",
                                       input="hjkl;' zxcv\n\n"))
        hashes += HASH.findall(_invoke("beacon", t[2], t[3], "0123456789abcdef", 6))
        _invoke("prepare", t[3], t[4])
        hashes += HASH.findall(_invoke("contribute", t[4], t[5], "--name", "carol"))
        hashes += HASH.findall(_invoke("beacon", t[5], t[6], "fedcba9876543210", 6))
        verify_output = _invoke("verify", t[6])
        (d / "in.jsonl").write_text("")
        (d / "deployment.yaml").write_text(
            "deployment: ceremony\nsecurity_mode: permissive\n"
            f"secrets: {{plugin: env, config: {{key_dir: '{d / 'signing'}'}}}}\n"
            f"ingress: [{{plugin: file, config: {{path: '{d / 'in.jsonl'}'}}}}]\n"
            f"audit: [{{plugin: jsonl, config: {{path: '{d / 'audit.jsonl'}'}}}}]\n"
            f"scoring: [{{plugin: rules, config: {{geo: {{fatf_list: '{FATF}'}}}}}}]\n")
        _invoke("finalize", t[6], "--output", d / "keys", "-c", d / "deployment.yaml")
    assert len(captured) == 3 + 3 + 1
    return CeremonyRun(d, t[3], t[6], d / "keys", hashes, verify_output, captured)


def test_chain_verifies_and_lists_every_contribution_hash(run: CeremonyRun) -> None:
    assert len(run.hashes) == 5 and run.verify_output.rstrip().endswith("OK")
    for h in run.hashes:
        assert h in run.verify_output
    lines = [line for line in run.verify_output.splitlines() if line.startswith("#")]
    assert [line.split()[3] for line in lines] == ["'alice'", "'bob'", "'beacon'", "'prepare'", "'carol'", "'beacon'"]
    assert "[beacon 0123456789abcdef 2^6]" in lines[2] and "[contribution]" in lines[4]
    log = (run.keys / LOG).read_text()
    assert all(h in log for h in run.hashes)


def test_finalized_key_proves_and_snarkjs_accepts(run: CeremonyRun, signal: RiskSignal, run_snarkjs,
                                                 tmp_path: Path) -> None:
    pk = pk_from_bytes((run.keys / PROVING_KEY).read_bytes())
    proof = prove(pk, risk_signal_r1cs(), witness(signal))
    assert verify(pk.vk, proof, signal.public_inputs())
    (tmp_path / "proof.json").write_text(json.dumps(proof_to_json(proof)))
    (tmp_path / "public.json").write_text(json.dumps(public_to_json(signal.public_inputs())))
    out = run_snarkjs("groth16", "verify", run.keys / VERIFICATION_KEY_JSON, "public.json", "proof.json",
                      cwd=tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
    wrong = [signal.public_inputs()[0] + 1, *signal.public_inputs()[1:]]
    assert not verify(pk.vk, proof, wrong)


def test_no_written_file_contains_a_contribution_secret(run: CeremonyRun) -> None:
    encodings = [e for s in run.secrets for e in (s.to_bytes(32, "big"), s.to_bytes(32, "little"))]
    files = [p for p in run.dir.rglob("*") if p.is_file()]
    assert len(files) >= 12
    for path in files:
        blob = path.read_bytes()
        assert not any(e in blob for e in encodings), f"{path.name} holds a contribution secret"


def test_ceremony_with_known_secrets_equals_keygen() -> None:
    """The oracle: the chain's key equals keygen's for the product of every contribution's secrets."""
    r1cs = risk_signal_r1cs()
    phase1 = [(0x1234567, 0xA1FA, 0xBE7A), (R - 0xF00D, 0xC0FFEE, 0xDECAF)]
    deltas = [0xDE17A, R - 3]
    tr = init(r1cs)
    for t, a, b in phase1:
        contribute(tr, "known", Secrets({"tau": t, "alpha": a, "beta": b}))
    prepare(tr, r1cs)
    for d in deltas:
        contribute(tr, "known", Secrets({"delta": d}))
    toxic = ToxicWaste(tau=phase1[0][0] * phase1[1][0] % R, alpha=phase1[0][1] * phase1[1][1] % R,
                       beta=phase1[0][2] * phase1[1][2] % R, gamma=1, delta=deltas[0] * deltas[1] % R)
    assert tr.phase2 is not None
    assert pk_to_bytes(tr.phase2) == pk_to_bytes(generate(r1cs, toxic))


def _f2_pow(a: tuple[int, int], e: int) -> tuple[int, int]:
    out = (1, 0)
    for bit in bin(e)[2:]:
        out = f2_mul(out, out)
        if bit == "1":
            out = f2_mul(out, a)
    return out


def _twist_point_outside_subgroup() -> tuple:
    """A point of the BN254 twist curve (x = k, y by the p ≡ 3 mod 4 square root in Fp2) not of order r."""
    for k in range(1, 100):
        x = (k, 0)
        rhs = f2_add(f2_mul(f2_mul(x, x), x), B2)
        a1 = _f2_pow(rhs, (P - 3) // 4)
        alpha = f2_mul(f2_mul(a1, a1), rhs)
        x0 = f2_mul(a1, rhs)
        y = f2_mul((0, 1), x0) if alpha == (P - 1, 0) else f2_mul(_f2_pow(f2_add((1, 0), alpha), (P - 1) // 2), x0)
        point = (x, y, (1, 0))
        if g2_on_curve(point) and not g2_in_subgroup(point):
            return point
    raise AssertionError("no twist point outside the subgroup among the first x values")


def test_point_scaling_matches_the_python_oracle() -> None:
    g1 = [G1_GEN, g1_mul(G1_GEN, 7), g1_mul(G1_GEN, R - 5), (1, 1, 0)]
    g2 = [G2_GEN, g2_mul(G2_GEN, 11), ((1, 0), (1, 0), (0, 0))]
    ks = [R - 1, 0x1F2E3D4C5B6A79881726354453627181, 1, 12345]
    for got, p, k in zip(scale_g1(g1, scalar_limbs(ks)), g1, ks, strict=True):
        assert g1_eq(got, g1_mul(p, k))
    for got, p, k in zip(scale_g2(g2, scalar_limbs(ks[:3])), g2, ks[:3], strict=True):
        assert g2_eq(got, g2_mul(p, k))
    assert subgroup_failures_g2([G2_GEN, g2[1], _twist_point_outside_subgroup(), g2[2]]) == [2]


def test_hash_to_g1_is_deterministic_and_on_the_curve() -> None:
    p, q = hash_to_g1(b"a", b"b"), hash_to_g1(b"ab")
    assert g1_on_curve(p) and g1_on_curve(q) and p == hash_to_g1(b"a", b"b") and p != q


# -- tampering ------------------------------------------------------------------------------

def _rehash(tr: Transcript) -> None:
    """What a careful forger does after an edit: refresh the last state digests and every hash."""
    phase1 = [r for r in tr.records if r.phase == 1]
    if phase1:
        phase1[-1].state_digest = tr.phase1.digest()
    if tr.phase2 is not None and tr.records[-1].kind != "prepare":
        tr.records[-1].state_digest = phase2_digest(tr.phase2)
    previous = tr.genesis_hash()
    for i, rec in enumerate(tr.records):
        rec.index = i
        rec.hash = rec.compute_hash(previous)
        previous = rec.hash


def _verify_fails(tr: Transcript, path: Path) -> str:
    tr.save(path)
    result = CliRunner().invoke(ceremony, ["verify", str(path)])
    assert result.exit_code != 0, result.output
    return result.output


def test_replaced_phase1_point_detected(run: CeremonyRun, tmp_path: Path) -> None:
    tr = load(run.phase1)
    tr.phase1.tau_g1[7] = norm_g1(g1_mul(G1_GEN, 7))
    out = _verify_fails(tr, tmp_path / "plain.ceremony")
    assert "#2 'beacon'" in out and "state digest differs" in out
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "rehashed.ceremony")
    assert "#2 'beacon'" in out and "τⁱ·G1 powers are not consecutive powers of τ" in out


def test_changed_proof_of_knowledge_detected(run: CeremonyRun, tmp_path: Path) -> None:
    tr = load(run.phase1)
    bob = tr.records[1]
    tau, alpha = bob.proofs[0], bob.proofs[1]
    bob.proofs[0], bob.proofs[1] = KnowledgeProof("tau", alpha.r_x, alpha.g2_x), KnowledgeProof("alpha", tau.r_x,
                                                                                                tau.g2_x)
    out = _verify_fails(tr, tmp_path / "plain.ceremony")
    assert "#1 'bob'" in out and "hash does not match" in out
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "rehashed.ceremony")
    assert "#1 'bob'" in out and "proof of knowledge of tau" in out


def test_removed_contribution_detected(run: CeremonyRun, tmp_path: Path) -> None:
    tr = load(run.phase1)
    del tr.records[0]
    out = _verify_fails(tr, tmp_path / "plain.ceremony")
    assert "'bob'" in out and "numbered 1" in out
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "rehashed.ceremony")
    assert "#0 'bob'" in out and "pairing check failed" in out


@pytest.mark.parametrize("field", ["hex", "iterations_exp"])
def test_beacon_with_wrong_parameters_detected(run: CeremonyRun, tmp_path: Path, field: str) -> None:
    tr = load(run.phase1)
    beacon = tr.records[2].beacon
    assert beacon is not None
    tr.records[2].beacon = replace(beacon, **({"hex": "0123456789abcdee"} if field == "hex" else {"iterations_exp": 7}))
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "t.ceremony")
    assert "#2 'beacon'" in out and "not the one derived from beacon" in out


def test_phase2_key_not_prepares_output_detected(run: CeremonyRun, tmp_path: Path) -> None:
    tr = load(run.final)
    assert tr.phase2 is not None
    tr.phase2.a_query[5] = norm_g1(g1_mul(tr.phase2.a_query[5], 2))
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "a.ceremony")
    assert "#5 'beacon'" in out and "a_query[5] is not prepare's output" in out
    tr = load(run.final)
    assert tr.phase2 is not None
    tr.phase2.l_query[3] = norm_g1(g1_mul(tr.phase2.l_query[3], 2))
    _rehash(tr)
    out = _verify_fails(tr, tmp_path / "l.ceremony")
    assert "#5 'beacon'" in out and "L and H queries are not the prepared ones divided by δ" in out


def test_finalize_refuses_a_key_without_phase2_contribution(run: CeremonyRun, tmp_path: Path) -> None:
    result = CliRunner().invoke(ceremony, ["finalize", str(run.phase1), "--output", str(tmp_path / "k")])
    assert result.exit_code != 0 and "cannot be finalized" in result.output
