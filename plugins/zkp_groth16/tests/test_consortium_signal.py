"""Consortium signals: a valid signal is accepted, every kind of tampering is rejected with its reason,
batches find the bad proof, and the plugin publishes signed signals for the decisions it proves."""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.consortium import (
    Member,
    Policy,
    build_signal,
    normalise_account,
    pseudonym,
    verify_signal,
    verify_signals,
    vk_fingerprint,
)
from aegis_zkp_groth16.keys import ProvingKey, vk_to_bytes
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json
from aegis_zkp_groth16.store import ProofStore

from aegis._loading import LoadedPlugin, load_plugin_class
from aegis._manager import PluginHost
from aegis.config import resolve_secret_refs
from aegis.context import Context
from aegis.decide import DecisionConfig, decide
from aegis.decode import decode
from aegis.model import Decision, FactorScores, RawBatch, ScoreResult
from aegis.signing import fingerprint
from aegis.testing.samples import transactions
from aegis.testing.signer import Signer

KEY = b"consortium pseudonym key for tests only, 0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)




@pytest.fixture(scope="module")
def bank_a() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def proved(pk: ProvingKey) -> tuple[dict, list[str], RiskSignal]:
    """One proof of a true statement (score 828 000 ≥ threshold 800 000)."""
    statement = RiskSignal(features=tuple(range(100, 108)), salt=987654321, weights=(1000,) * 8, threshold=800_000)
    proof = proof_to_json(prove(pk, risk_signal_r1cs(), witness(statement)))
    return proof, public_to_json(statement.public_inputs()), statement


@pytest.fixture(scope="module")
def policy(pk: ProvingKey, bank_a: Signer) -> Policy:
    return Policy(vk=pk.vk, vk_fingerprint=vk_fingerprint(vk_to_bytes(pk.vk)),
                  members={"bank-a": Member("bank-a", bank_a.pem, bank_a.key_id)}, min_threshold=500_000,
                  max_age=timedelta(days=7), max_skew=timedelta(minutes=5))


def _signal(proved, policy: Policy, signer: Signer, account: str = "DE89 3704 0044 0532 0130 00", **changes) -> dict:
    proof, public, _ = proved
    fields = {"issuer": "bank-a", "entity": pseudonym(KEY, account), "role": "creditor", "model": "sha256:" + "ab" * 32,
              "vk": policy.vk_fingerprint, "proof": proof, "public_inputs": public, "key_id": signer.key_id,
              "sign": signer.sign, "issued_at": NOW - timedelta(hours=1)}
    return build_signal(**{**fields, **changes})


def _resign(signal: dict, signer: Signer) -> dict:
    """The same fields signed again: what a member (or a buggy publisher) would produce."""
    fields = {k: v for k, v in signal.items() if k not in ("version", "signature")}
    fields["issued_at"] = datetime.fromisoformat(fields["issued_at"])
    return build_signal(**fields, sign=signer.sign)


def test_valid_signal_is_accepted_and_reveals_no_account(proved, policy, bank_a) -> None:
    signal = _signal(proved, policy, bank_a)
    assert verify_signal(signal, policy, NOW) == (True, "accepted")
    line = json.dumps(signal)
    assert "DE89" not in line and "987654321" not in line and '"100"' not in line
    assert signal["entity"] == pseudonym(KEY, "de89370400440532013000")
    assert set(signal) == {"version", "signal_id", "issuer", "issued_at", "entity", "role", "model", "vk", "proof",
                           "public_inputs", "key_id", "signature"}


def test_account_normalisation() -> None:
    assert normalise_account(" de89 3704 0044 0532 0130 00 ") == "DE89370400440532013000"
    assert normalise_account(" ACC-000042 ") == "ACC-000042"
    assert pseudonym(KEY, "ACC-1") != pseudonym(KEY + b"x", "ACC-1")


def _bump(values: list[str], i: int) -> list[str]:
    changed = list(values)
    changed[i] = str(int(changed[i]) + 1)
    return changed


def _tampered(case: str, signal: dict, bank_a: Signer, outsider: Signer) -> dict:
    s = copy.deepcopy(signal)
    if case == "public input":
        s["public_inputs"] = _bump(s["public_inputs"], 0)
    elif case == "public input, re-signed":
        s["public_inputs"] = _bump(s["public_inputs"], len(s["public_inputs"]) - 1)
        s = _resign(s, bank_a)
    elif case == "proof element":
        s["proof"]["pi_c"][0] = str(int(s["proof"]["pi_c"][0]) + 1)
    elif case == "proof elements swapped, re-signed":
        s["proof"]["pi_a"], s["proof"]["pi_c"] = s["proof"]["pi_c"], s["proof"]["pi_a"]
        s = _resign(s, bank_a)
    elif case == "entity":
        s["entity"] = pseudonym(KEY, "ACC-000001")
    elif case == "role":
        s["role"] = "debtor"
    elif case == "non-member":
        s = _resign(dict(s, issuer="bank-x", key_id=outsider.key_id), outsider)
    elif case == "wrong key":
        s = _resign(dict(s, key_id=outsider.key_id), outsider)
    elif case == "wrong key, member's key id":
        s = _resign(s, outsider)
    elif case == "vk fingerprint":
        s = _resign(dict(s, vk="sha256:" + "00" * 32), bank_a)
    elif case == "not base64":
        s["signature"] = "%%%"
    elif case == "extra field":
        s["features"] = ["100"]
    return s


TAMPERING = [("public input", "signature"), ("public input, re-signed", "proof"), ("proof element", "signature"),
             ("proof elements swapped, re-signed", "proof"), ("entity", "signature"), ("role", "signature"),
             ("non-member", "unknown_issuer"), ("wrong key", "key_id"), ("wrong key, member's key id", "signature"),
             ("vk fingerprint", "vk"), ("not base64", "signature"), ("extra field", "malformed")]


@pytest.mark.parametrize(("case", "reason"), TAMPERING, ids=[c for c, _ in TAMPERING])
def test_tampered_signal_is_rejected_with_its_reason(case: str, reason: str, proved, policy, bank_a) -> None:
    signal = _tampered(case, _signal(proved, policy, bank_a), bank_a, Signer())
    verdict = verify_signal(signal, policy, NOW)
    assert not verdict.ok and verdict.code == reason, verdict


def test_threshold_model_and_age_checks(proved, policy, bank_a) -> None:
    signal = _signal(proved, policy, bank_a)
    strict = Policy(**{**policy.__dict__, "min_threshold": 800_001})
    assert verify_signal(signal, strict, NOW).reason.startswith("threshold: threshold 800000 is below")
    pinned = Policy(**{**policy.__dict__, "model_weights": (1000,) * 7 + (999,)})
    assert verify_signal(signal, pinned, NOW).code == "model"
    assert verify_signal(signal, Policy(**{**policy.__dict__, "model_weights": (1000,) * 8}), NOW).ok
    assert verify_signal(signal, Policy(**{**policy.__dict__, "model_digest": "sha256:" + "cd" * 32}), NOW).code \
        == "model"
    assert verify_signal(signal, policy, NOW + timedelta(days=8)).code == "expired"
    assert verify_signal(signal, policy, NOW - timedelta(hours=2)).code == "future"
    assert verify_signal(signal, policy, NOW - timedelta(minutes=62)).ok  # within the clock skew


def test_batch_verification_finds_the_bad_proof(proved, policy, bank_a) -> None:
    good = [_signal(proved, policy, bank_a, account=f"ACC-{i}") for i in range(3)]
    assert [v.ok for v in verify_signals(good, policy, NOW)] == [True, True, True]
    bad = _tampered("public input, re-signed", good[1], bank_a, Signer())
    expired = _signal(proved, policy, bank_a, issued_at=NOW - timedelta(days=30))
    verdicts = verify_signals([good[0], bad, expired, good[2]], policy, NOW)
    assert [v.ok for v in verdicts] == [True, False, False, True]
    assert [verdicts[1].code, verdicts[2].code] == ["proof", "expired"]


def test_store_migrates_a_database_without_the_signals_column(tmp_path: Path) -> None:
    path = tmp_path / "aegis_zkp.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE proofs (uetr TEXT PRIMARY KEY, created_at REAL NOT NULL, model TEXT NOT NULL, "
               "proof TEXT NOT NULL, public_inputs TEXT NOT NULL, opening TEXT NOT NULL)")
    db.execute("INSERT INTO proofs VALUES ('old', ?, 'm', '{}', '[]', '{}')", (time.time(),))
    db.commit()
    db.close()
    store = ProofStore(path)
    try:
        assert store.get("old")["signals"] == []
        store.put("new", "m", {}, [], {}, [{"signal_id": "s", "role": "creditor", "entity": "e"}])
        assert store.get("new")["signals"][0]["signal_id"] == "s"
    finally:
        store.close()


def _host_resolving_secrets(tmp_path: Path, proving_config: dict) -> PluginHost:
    """Env secrets and groth16 loaded as a deployment loads them: ``$secret`` references resolved at build."""
    loaded = []
    for family, name, raw in (("secrets", "env", {"key_dir": str(tmp_path / "keys")}),
                              ("proving", "groth16", proving_config)):
        cls, info = load_plugin_class(family, name)
        placeholder = resolve_secret_refs(raw, lambda n: f"<secret {n}>")
        loaded.append(LoadedPlugin(family, None, name, cls, info, raw, cls.Config.model_validate(placeholder)))
    context = Context(deployment="zkp-test", security_mode="permissive", state_dir=tmp_path / "state")
    host = PluginHost(loaded, context)
    host.context = replace(context, host=host)
    host.build()
    return host


def test_plugin_publishes_signed_signals_for_proved_decisions(tmp_path: Path, pk: ProvingKey,
                                                              secrets_host: PluginHost,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path / "zkp"
    write_keys(key_dir, pk, lambda d: secrets_host.sign(d, "zkp"), secrets_host.public_key("zkp"), ["t"], "tester")
    monkeypatch.setenv("AEGIS_SECRET_CONSORTIUM_PSEUDONYM", KEY.decode())
    outbox = tmp_path / "outbox.jsonl"
    host = _host_resolving_secrets(tmp_path, {
        "key_dir": str(key_dir), "database": str(tmp_path / "aegis_zkp.db"), "metrics_port": None,
        "prover_backend": "python",
        "consortium": {"member_id": "bank-a", "pseudonym_key": {"$secret": "consortium_pseudonym"},
                       "roles": ["creditor", "debtor"], "outbox": str(outbox)}})
    host.startup()
    try:
        plugin = host.family("proving")[0].instance
        batch, _ = decode(RawBatch("t", transactions(3, seed=5), ["t:0", "t:1", "t:2"]), host.accounts)
        result = ScoreResult(factors={"SANCTIONS": FactorScores(np.array([0.0, 1.0, 0.0]), "RC_SANCTIONS_MATCH")})
        decisions = decide(batch, [("t", result)], DecisionConfig())
        assert decisions.decision.tolist() == [Decision.CLEAR, Decision.BLOCK, Decision.CLEAR]
        assert plugin.aegis_proving_submit(decisions=decisions) == 1
        assert plugin.queue.drain(timeout=60)
        signals = [json.loads(line) for line in outbox.read_text().splitlines()]
        tx = batch.transactions[1]
        assert [(s["role"], s["entity"]) for s in signals] == [
            ("creditor", pseudonym(KEY, tx.creditor.account)), ("debtor", pseudonym(KEY, tx.debtor.account))]
        pem = host.public_key("consortium")
        members = {"bank-a": Member("bank-a", pem, fingerprint(pem))}
        peer = Policy(vk=pk.vk, vk_fingerprint=vk_fingerprint((key_dir / "verification_key.bin").read_bytes()),
                      members=members, min_threshold=int(0.8 * (1 << 36)))
        assert [v.ok for v in verify_signals(signals, peer)] == [True, True]
        row = plugin.aegis_proving_lookup(uetr=str(tx.uetr))
        assert sorted(s["signal_id"] for s in row["signals"]) == sorted(s["signal_id"] for s in signals)
        assert plugin.publisher.published._value.get() == 2
        checks = {r.check: r for r in host.self_test()}
        assert checks["consortium signals signed and written"].ok, checks
        assert tx.creditor.account not in outbox.read_text() and tx.debtor.account not in outbox.read_text()
    finally:
        host.shutdown()


def test_short_pseudonym_key_stops_startup(tmp_path: Path, pk: ProvingKey, make_host, secrets_host: PluginHost) -> None:
    key_dir = tmp_path / "zkp"
    write_keys(key_dir, pk, lambda d: secrets_host.sign(d, "zkp"), secrets_host.public_key("zkp"), ["t"], "tester")
    host = make_host({"key_dir": str(key_dir), "database": str(tmp_path / "aegis_zkp.db"), "metrics_port": None,
                      "consortium": {"member_id": "bank-a", "pseudonym_key": "too short"}})
    with pytest.raises(Exception, match="pseudonym_key has 9 characters"):
        host.startup()
    host.shutdown()
