"""Bank A blocks a payment, proves it and publishes a signal; bank B's consortium plugin reads A's outbox
and flags B's later payments to the same creditor account, and no other."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.config import Groth16Config
from aegis_zkp_groth16.keys import ProvingKey
from aegis_zkp_groth16.statement import PublicModel

from aegis._loading import LoadedPlugin, load_plugin_class
from aegis._manager import PluginHost
from aegis.config import resolve_secret_refs
from aegis.context import Context
from aegis.decide import DecisionConfig, decide
from aegis.decode import decode
from aegis.model import Decision, FactorScores, RawBatch, ScoreResult
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import EPOCH, transaction

PSEUDONYM_KEY = "shared-consortium-pseudonym-key-e2e-0123456789"


def _bank_a(tmp_path: Path, groth16: dict) -> PluginHost:
    """Bank A's host as a deployment loads it: env secrets, groth16, ``$secret`` references resolved."""
    loaded = []
    for family, name, raw in (("secrets", "env", {"key_dir": str(tmp_path / "keys")}), ("proving", "groth16", groth16)):
        cls, info = load_plugin_class(family, name)
        placeholder = resolve_secret_refs(raw, lambda n: f"<secret {n}>")
        loaded.append(LoadedPlugin(family, None, name, cls, info, raw, cls.Config.model_validate(placeholder)))
    context = Context(deployment="bank-a", security_mode="permissive", state_dir=tmp_path / "state")
    host = PluginHost(loaded, context)
    host.context = replace(context, host=host)
    host.build()
    return host


def test_blocked_payment_becomes_a_peer_signal_that_flags_the_creditor(tmp_path: Path, pk: ProvingKey,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_SECRET_CONSORTIUM_PSEUDONYM", PSEUDONYM_KEY)
    a_dir, b_dir = tmp_path / "bank-a", tmp_path / "bank-b"
    key_dir, outbox = a_dir / "zkp", a_dir / "consortium_outbox.jsonl"
    host = _bank_a(a_dir, {"key_dir": str(key_dir), "database": str(a_dir / "aegis_zkp.db"), "metrics_port": None,
                           "prover_backend": "python",
                           "consortium": {"member_id": "bank-a", "outbox": str(outbox),
                                          "pseudonym_key": {"$secret": "consortium_pseudonym"}}})
    # the ceremony, signed with A's `zkp` key (the consortium's set-up key in this test); resolving the
    # `$secret` reference at build already started the secrets plugin
    write_keys(key_dir, pk, lambda d: host.sign(d, "zkp"), host.public_key("zkp"), ["e2e"], operator="tester")
    host.startup()
    try:
        rng = random.Random(1)
        txs = [transaction(rng, EPOCH, 1, 7), transaction(rng, EPOCH, 2, 8)]
        batch, _ = decode(RawBatch("a", txs, ["a:1", "a:2"]), host.accounts)
        result = ScoreResult(factors={"SANCTIONS": FactorScores(np.array([1.0, 0.2]), "RC_SANCTIONS_MATCH")})
        decisions = decide(batch, [("a", result)], DecisionConfig())
        assert decisions.decision.tolist() == [Decision.BLOCK, Decision.CLEAR]
        plugin = host.family("proving")[0].instance
        assert plugin.aegis_proving_submit(decisions=decisions) == 1
        assert plugin.queue.drain(timeout=60)
        (signal,) = [json.loads(line) for line in outbox.read_text().splitlines()]
        assert "ACC-000007" not in outbox.read_text()
        b_dir.mkdir()
        (b_dir / "setup.pem").write_bytes(host.public_key("zkp"))
        (b_dir / "bank-a.pem").write_bytes(host.public_key("consortium"))
    finally:
        host.shutdown()

    model = PublicModel(Groth16Config(), ["SANCTIONS"])
    peer = {"feeds": [str(outbox)], "verification_key": str(key_dir / "verification_key.bin"),
            "setup_key": str(b_dir / "setup.pem"), "members": {"bank-a": str(b_dir / "bank-a.pem")},
            "pseudonym_key": PSEUDONYM_KEY, "min_risk": 0.8, "model_digest": model.digest(),
            "model_weights": [1 << 16]}
    with PluginHarness("scoring", "consortium", peer, b_dir / "state") as b:
        assert len(b.plugin.book) == 1
        soon = datetime.now(UTC) + timedelta(hours=1)  # payments made after the signal was issued
        later = [transaction(rng, soon, 30, 7), transaction(rng, soon, 31, 9)]
        fs = b.score(b.batch(later)).factors["CONSORTIUM"]
        assert fs.scores.tolist() == [1.0, 0.0]
        assert fs.reason_code == "RC_CONSORTIUM_SIGNAL"
        assert "bank-a" in fs.details[0] and signal["signal_id"] in fs.details[0] and fs.details[1] is None
