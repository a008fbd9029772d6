"""The plugin: signed verification key at startup, the bounded proof queue, the verify hook, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aegis_zkp_groth16.artifacts import LOG, SIGNATURE, VERIFICATION_KEY, sha256_file, write_keys
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.cli import trusted_setup
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.keys import ProvingKey
from aegis_zkp_groth16.metrics import ZkpMetrics
from aegis_zkp_groth16.proof_queue import ProofQueue
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json
from aegis_zkp_groth16.store import ProofStore
from click.testing import CliRunner

from aegis._manager import PluginHost

FATF = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "country_risk" / "fatf_lists.csv").resolve()


def _keys(tmp_path: Path, pk: ProvingKey, host: PluginHost) -> Path:
    out = tmp_path / "zkp"
    write_keys(out, pk, lambda data: host.sign(data, "zkp"), host.public_key("zkp"), ["test"], operator="tester")
    return out


def _config(tmp_path: Path, key_dir: Path, **extra) -> dict:
    return {"key_dir": str(key_dir), "database": str(tmp_path / "aegis_zkp.db"), "metrics_port": None, **extra}


def test_startup_verifies_signed_key_and_verify_hook(tmp_path: Path, pk: ProvingKey, secrets_host: PluginHost,
                                                     signal: RiskSignal, make_host) -> None:
    key_dir = _keys(tmp_path, pk, secrets_host)
    host = make_host(_config(tmp_path, key_dir))
    host.startup()
    try:
        plugin = host.family("proving")[0].instance
        proof = proof_to_json(prove(pk, risk_signal_r1cs(), witness(signal)))
        public = public_to_json(signal.public_inputs())
        assert plugin.aegis_proving_verify(proof=proof, public_inputs=public) is True
        assert plugin.aegis_proving_verify(proof=proof, public_inputs=[public[0] + "1", *public[1:]]) is False
        wide = RiskSignal(signal.features, signal.salt, (1 << 24, *signal.weights[1:]), 0).public_inputs()
        assert plugin.aegis_proving_verify(proof=proof, public_inputs=[str(v) for v in wide]) is False
    finally:
        host.shutdown()


@pytest.mark.parametrize("tamper", ["signature", "key"])
def test_signature_mismatch_stops_startup(tmp_path: Path, pk: ProvingKey, secrets_host: PluginHost,
                                          tamper: str, make_host) -> None:
    key_dir = _keys(tmp_path, pk, secrets_host)
    target = key_dir / (SIGNATURE if tamper == "signature" else VERIFICATION_KEY)
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    host = make_host(_config(tmp_path, key_dir))
    with pytest.raises(Exception, match=r"verification_key\.sig does not verify|not on the curve"):
        host.startup()
    host.shutdown()


def test_queue_overflow_counts_drops_and_stores_proofs(tmp_path: Path, pk: ProvingKey, secrets_host: PluginHost,
                                                       signal: RiskSignal) -> None:
    key_dir = _keys(tmp_path, pk, secrets_host)
    store = ProofStore(tmp_path / "aegis_zkp.db")
    metrics = ZkpMetrics()
    q = ProofQueue(key_dir / "proving_key.bin", store, metrics, "sha256:model", workers=1, size=1,
                   overflow="drop_new")
    try:
        queued = q.submit([(f"uetr-{i}", signal) for i in range(6)])
        dropped = metrics.dropped._value.get()
        assert queued + dropped == 6
        assert dropped >= 4 and metrics.triggers._value.get() == 6
        assert q.drain(timeout=60)
        assert store.count() == queued
        row = store.get("uetr-0")
        assert row is not None and row["public_inputs"] == [str(v) for v in signal.public_inputs()]
        assert "salt" not in json.dumps(row)
    finally:
        q.close()
        store.close()


def test_no_written_file_contains_the_toxic_waste(tmp_path: Path, secrets_host: PluginHost) -> None:
    toxic = ToxicWaste(tau=0x1234567890ABCDEF1234567890ABCDEF, alpha=0xA1FA00000000000000000000000000A1,
                       beta=0xBE7A0000000000000000000000000BE7, gamma=0x6A33A00000000000000000000006A33A,
                       delta=0xDE17A00000000000000000000000DE17)
    secrets = [toxic.tau, toxic.alpha, toxic.beta, toxic.gamma, toxic.delta]
    pk = generate(risk_signal_r1cs(), toxic)
    toxic.wipe()
    assert (toxic.tau, toxic.delta) == (0, 0)
    out = tmp_path / "zkp"
    written = write_keys(out, pk, lambda d: secrets_host.sign(d, "zkp"), secrets_host.public_key("zkp"), ["x"])
    encodings = []
    for s in secrets:
        encodings += [s.to_bytes(32, "big"), s.to_bytes(32, "little"), str(s).encode(), f"{s:x}".encode()]
    for path in written:
        blob = path.read_bytes()
        assert not any(e in blob for e in encodings), f"{path.name} holds a set-up secret"


def test_trusted_setup_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AEGIS_SECURITY_MODE", "permissive")
    (tmp_path / "in.jsonl").write_text("")
    (tmp_path / "deployment.yaml").write_text(
        "deployment: ceremony\nsecurity_mode: permissive\n"
        "secrets: {plugin: env, config: {key_dir: keys}}\n"
        "ingress: [{plugin: file, config: {path: in.jsonl}}]\n"
        "audit: [{plugin: jsonl, config: {path: audit.jsonl}}]\n"
        f"scoring: [{{plugin: rules, config: {{geo: {{fatf_list: '{FATF}'}}}}}}]\n")
    result = CliRunner().invoke(trusted_setup, ["--interactive", "--output", "out", "--operator", "alice",
                                                "-c", "deployment.yaml"],
                                input="qwertyuiop asdfgh\n\n")
    assert result.exit_code == 0, result.output
    log = (tmp_path / "out" / LOG).read_text()
    assert "Operator: alice" in log and "Ceremony Date: " in log
    for name in ("proving_key.bin", "verification_key.bin", "verification_key.json", "verification_key.sig"):
        assert f"{sha256_file(tmp_path / 'out' / name)}  {name}" in log
