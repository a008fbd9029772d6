"""A real deployment: blocked payments' records cite their proofs, and the export carries proofs that verify."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.keys import ProvingKey

from aegis._manager import PluginHost
from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline
from aegis.regulatory_export import build_export
from aegis.testing.samples import transactions

FATF = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "country_risk" / "fatf_lists.csv").resolve()


def test_blocked_records_cite_proofs_that_the_export_carries(tmp_path: Path, pk: ProvingKey,
                                                              secrets_host: PluginHost) -> None:
    key_dir = tmp_path / "zkp"
    write_keys(key_dir, pk, lambda d: secrets_host.sign(d, "zkp"), secrets_host.public_key("zkp"), ["test"])
    txs = transactions(12, seed=3)
    for tx in txs:
        tx["creditor"]["country"] = "DE"
    for i in (2, 7):  # payments to a FATF call-for-action country: GEO 1.0 at weight 1.0 blocks them
        txs[i]["creditor"]["country"] = "KP"
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in txs))
    config = parse_outline({
        "deployment": "zkp-e2e", "security_mode": "permissive",
        "secrets": {"plugin": "env", "config": {"key_dir": str(tmp_path / "keys")}},
        "ingress": [{"plugin": "file", "config": {"path": str(source)}}],
        "scoring": [{"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}}}],
        "audit": [{"plugin": "jsonl", "config": {"path": str(tmp_path / "audit.jsonl")}}],
        "proving": {"plugin": "groth16", "config": {"key_dir": str(key_dir), "metrics_port": None,
                                                    "database": str(tmp_path / "aegis_zkp.db"),
                                                    "weights": {"GEO": 1.0}}},
        "decision": {"weights": {"GEO": 1.0}},
        "pipeline": {"state_dir": str(tmp_path / "state")},
    })
    with started(config) as host:
        Pipeline(host, config).run()
        prover = host.family("proving")[0]
        assert prover.instance.queue.drain(timeout=120)
        records = {r["uetr"]: r for r in map(orjson.loads, (tmp_path / "audit.jsonl").read_bytes().splitlines())}
        blocked = [t["uetr"] for t in txs if records[t["uetr"]]["decision"] == "BLOCK"]
        assert blocked == [txs[2]["uetr"], txs[7]["uetr"]]
        for uetr, record in records.items():
            expected = f"groth16:aegis_zkp.db:{uetr}" if uetr in blocked else None
            assert record.get("proof_ref") == expected
        doc = build_export(host, blocked[0], include_zkp=True)
        assert doc["zkp_proof_ref"] == f"groth16:aegis_zkp.db:{blocked[0]}"
        stored = orjson.loads(base64.b64decode(doc["zkp_proof_b64"]))
        assert host.call("aegis_proving_verify", prover, proof=stored["proof"],
                         public_inputs=stored["public_inputs"]) is True
        clear = build_export(host, txs[0]["uetr"], include_zkp=True)
        assert clear["zkp_proof_b64"] is None and clear["zkp_proof_ref"] is None
