"""The groth16 plugin passes the proving conformance suite, as a vendor's plugin would."""

from __future__ import annotations

from pathlib import Path

import pytest
from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keys import ProvingKey
from aegis_zkp_groth16.prover import prove
from aegis_zkp_groth16.snarkjs_json import proof_to_json, public_to_json

from aegis._manager import PluginHost
from aegis.testing import ProvingPluginTests


class TestGroth16Conformance(ProvingPluginTests):
    plugin_name = "groth16"

    @pytest.fixture
    def proving_setup(self, tmp_path: Path, pk: ProvingKey, secrets_host: PluginHost):
        key_dir = tmp_path / "zkp"
        write_keys(key_dir, pk, lambda data: secrets_host.sign(data, "zkp"), secrets_host.public_key("zkp"),
                   ["conformance"], operator="conformance")
        config = {"key_dir": str(key_dir), "database": str(tmp_path / "aegis_zkp.db"), "metrics_port": None}
        return config, [("secrets", "env", {"key_dir": str(tmp_path / "keys")})]

    @pytest.fixture
    def valid_proof(self, pk: ProvingKey, signal: RiskSignal):
        return proof_to_json(prove(pk, risk_signal_r1cs(), witness(signal))), public_to_json(signal.public_inputs())
