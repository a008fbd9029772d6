"""Fixtures: one set-up (fixed toxic waste, fast), one proof, member keys, and a consortium directory
(signed verification key, setup and member public keys, a feed) per test."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aegis_zkp_groth16.artifacts import SIGNATURE, VERIFICATION_KEY
from aegis_zkp_groth16.circuit import N_FEATURES, RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.consortium import build_signal, pseudonym, signal_line, vk_fingerprint
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.keys import ProvingKey, vk_to_bytes
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json

from aegis.testing.samples import EPOCH
from aegis.testing.signer import Signer

PSEUDONYM_KEY = "consortium-test-pseudonym-key-0123456789abcdef"
MODEL = "sha256:" + "ab" * 32




@pytest.fixture(scope="session")
def pk() -> ProvingKey:
    toxic = ToxicWaste(tau=0x1234567, alpha=0x2345678, beta=0x3456789, gamma=0x456789A, delta=0x56789AB)
    return generate(risk_signal_r1cs(), toxic)


@pytest.fixture(scope="session")
def proved(pk: ProvingKey) -> tuple[dict, list[str]]:
    """A SANCTIONS score of 1.0 under weight 1.0 reaches block_at 0.8 (the publishers' scales 2^20, 2^16)."""
    pad = (0,) * (N_FEATURES - 1)
    statement = RiskSignal(features=(1 << 20, *pad), salt=424242, weights=(1 << 16, *pad),
                           threshold=int(0.8 * (1 << 36)))
    return proof_to_json(prove(pk, risk_signal_r1cs(), witness(statement))), public_to_json(statement.public_inputs())


@pytest.fixture(scope="session")
def setup_signer() -> Signer:
    return Signer()


@pytest.fixture(scope="session")
def bank_b() -> Signer:
    return Signer()


@dataclass
class Consortium:
    """A peer's view: key files, member keys and one feed; ``signal`` makes signals from bank-b."""

    root: Path
    pk: ProvingKey
    proved: tuple[dict, list[str]]
    bank_b: Signer
    feed: Path
    setup_key: Path

    def config(self, **overrides) -> dict:
        return {"feeds": [str(self.feed)], "verification_key": str(self.root / VERIFICATION_KEY),
                "setup_key": str(self.setup_key), "members": {"bank-b": str(self.root / "bank-b.pem")},
                "pseudonym_key": PSEUDONYM_KEY, "verify_in_background": False, "reload_interval": 0,
                **overrides}

    def signal(self, account: str, role: str = "creditor", issued_at: datetime | None = None,
               signer: Signer | None = None) -> dict:
        proof, public = self.proved
        signer = signer or self.bank_b
        return build_signal(issuer="bank-b", entity=pseudonym(PSEUDONYM_KEY.encode(), account), role=role,
                            model=MODEL, vk=vk_fingerprint(vk_to_bytes(self.pk.vk)), proof=copy.deepcopy(proof),
                            public_inputs=public, key_id=signer.key_id, sign=signer.sign,
                            issued_at=issued_at or EPOCH - timedelta(minutes=1))

    def append(self, *signals: dict, path: Path | None = None) -> None:
        with open(path or self.feed, "ab") as f:
            for s in signals:
                f.write(signal_line(s))


@pytest.fixture
def consortium(tmp_path: Path, pk: ProvingKey, proved, setup_signer: Signer, bank_b: Signer) -> Consortium:
    root = tmp_path / "consortium"
    root.mkdir()
    vk_bytes = vk_to_bytes(pk.vk)
    (root / VERIFICATION_KEY).write_bytes(vk_bytes)
    (root / SIGNATURE).write_bytes(setup_signer.sign(vk_bytes))
    (root / "setup.pem").write_bytes(setup_signer.pem)
    (root / "bank-b.pem").write_bytes(bank_b.pem)
    feed = root / "feeds" / "bank-b.jsonl"
    feed.parent.mkdir()
    feed.write_bytes(b"")
    return Consortium(root, pk, proved, bank_b, feed, root / "setup.pem")
