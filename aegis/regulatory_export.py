"""Regulatory export: the complete, verifiable decision trail of one transaction.

    python -m aegis.regulatory_export --uetr U --output FILE [-c deployment.yaml]
                                      [--include-zkp] [--include-model-snapshot]

The export holds the operator guide's fields (uetr, decision, reason_code, timestamp,
model_version_hash, risk_factors, zkp_proof_b64, hsm_timestamp_signature,
sanctions_list_version), the stored record line byte for byte, its Merkle inclusion proof and
the signed checkpoint that seals it. ``aegis export verify FILE --public-key K`` checks all of
it offline, with nothing but the file and the public key.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from aegis.audit_chain import checkpoint_payload, inclusion_proof, record_hash, split_line, verify_inclusion
from aegis.errors import AegisError
from aegis.signing import fingerprint, verify

FORMAT = "aegis.regulatory_export/1"
GUIDE_FIELDS = ("uetr", "decision", "reason_code", "timestamp", "model_version_hash", "risk_factors",
                "sanctions_list_version")


class ExportError(AegisError):
    """The export cannot be produced (e.g. unknown UETR: exit code 2)."""

    exit_code = 2


def attestation_payload(doc: dict) -> bytes:
    """What ``hsm_timestamp_signature`` signs: the UETR, its decision timestamp and record hash."""
    return orjson.dumps({"uetr": doc["uetr"], "timestamp": doc["timestamp"], "record_hash": doc["record_hash"]},
                        option=orjson.OPT_SORT_KEYS)


def build_export(host, uetr: str, include_zkp: bool = False, include_model_snapshot: bool = False,
                 signing_key: str = "audit") -> dict[str, Any]:
    """Assemble the export from the first audit sink that holds ``uetr``."""
    uetr = uetr.strip().lower()
    for lp in host.family("audit"):
        record = host.call("aegis_audit_lookup", lp, uetr=uetr)
        if record:
            break
    else:
        raise ExportError(f"UETR {uetr} is not in any audit sink of this deployment "
                          f"({', '.join(lp.path for lp in host.family('audit'))})")
    seq = int(record["chain"]["seq"])
    checkpoint = next((c for c in host.one("aegis_audit_checkpoints", lp) or []
                       if int(c["from_seq"]) <= seq <= int(c["to_seq"])), None)
    if checkpoint is None:
        raise ExportError(f"UETR {uetr} (seq {seq} in {lp.path}) is not sealed by a checkpoint yet; "
                          f"the deployment seals every audit_trail.checkpoint_seconds and when it stops")
    lines = []
    for line in host.one("aegis_audit_scan", lp, after_seq=int(checkpoint["from_seq"]) - 1) or ():
        lines.append(line)
        if len(lines) == int(checkpoint["to_seq"]) - int(checkpoint["from_seq"]) + 1:
            break
    hashes = [split_line(line)[1]["hash"] for line in lines]
    index = seq - int(checkpoint["from_seq"])
    line = lines[index]
    doc: dict[str, Any] = {"format": FORMAT}
    doc.update({k: record.get(k) for k in GUIDE_FIELDS})
    doc["zkp_proof_b64"] = None
    doc["zkp_proof_ref"] = record.get("proof_ref")  # what the sealed record cites, proof or not
    if include_zkp:
        for prover in host.family("proving"):
            stored = host.call("aegis_proving_lookup", prover, uetr=uetr)
            if stored:
                doc["zkp_proof_b64"] = base64.b64encode(orjson.dumps(stored)).decode()
    doc["record_hash"] = record["chain"]["hash"]
    pem = host.public_key(signing_key)
    doc["hsm_timestamp_signature"] = base64.b64encode(host.sign(attestation_payload(doc), signing_key)).decode()
    doc["sink"] = lp.path
    doc["record_line"] = line.decode()
    doc["inclusion_proof"] = {"leaf_index": index, "tree_size": len(hashes), "path": inclusion_proof(hashes, index)}
    doc["checkpoint"] = checkpoint
    doc["public_key_fingerprint"] = fingerprint(pem)
    if include_model_snapshot:
        doc["model_snapshot"] = {k: v for k, v in record.items()
                                 if k in ("model_version_hash", "rules_version", "sanctions_list_version",
                                          "versions", "thresholds")}
    return doc


def verify_export(doc: dict, public_key_pem: bytes) -> list[str]:
    """Every reason the export does not hold (empty when it verifies)."""
    problems = []
    if doc.get("format") != FORMAT:
        return [f"not an Aegis regulatory export (format {doc.get('format')!r})"]
    try:
        body, chain = split_line(doc["record_line"].encode())
        record = orjson.loads(body)
    except (KeyError, ValueError) as exc:
        return [f"record_line unreadable: {exc}"]
    actual = record_hash(chain["prev"], body)
    if actual != chain["hash"] or actual != doc.get("record_hash"):
        problems.append("record_line does not match its hash: the record was altered")
    for key in GUIDE_FIELDS:
        if doc.get(key) != record.get(key):
            problems.append(f"{key}: the export says {doc.get(key)!r}, the signed record says {record.get(key)!r}")
    proof, checkpoint = doc.get("inclusion_proof", {}), doc.get("checkpoint", {})
    if int(chain["seq"]) - int(checkpoint.get("from_seq", 0)) != proof.get("leaf_index") or \
            not verify_inclusion(actual, proof.get("leaf_index", -1), proof.get("tree_size", 0),
                                 proof.get("path", []), checkpoint.get("merkle_root", "")):
        problems.append("inclusion proof does not lead to the checkpoint's Merkle root")
    try:
        if not verify(public_key_pem, checkpoint_payload(checkpoint), base64.b64decode(checkpoint["signature"])):
            problems.append("checkpoint signature does not verify with the public key")
        if not verify(public_key_pem, attestation_payload(doc), base64.b64decode(doc["hsm_timestamp_signature"])):
            problems.append("hsm_timestamp_signature does not verify with the public key")
    except (KeyError, ValueError) as exc:
        problems.append(f"signature unreadable: {exc}")
    return problems


@click.command(name="regulatory_export")
@click.option("--uetr", required=True, help="the transaction's UETR")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="deployment YAML (default: the embedded demo deployment)")
@click.option("--include-zkp", is_flag=True, help="include the zero-knowledge proof when one was made")
@click.option("--include-model-snapshot", is_flag=True, help="include the versions and thresholds in force")
def main(uetr: str, output: Path, config_path: Path | None, include_zkp: bool, include_model_snapshot: bool) -> None:
    """Write the verifiable decision trail of one transaction (exit 2 when the UETR is unknown)."""
    from aegis.cli import default_config_path
    from aegis.config import load_outline
    from aegis.deployment import configure_logging, started
    try:
        path = config_path or default_config_path()
        config = load_outline(path)
        configure_logging(config.log_level)
        families = ("secrets", "audit", "proving") if include_zkp else ("secrets", "audit")
        with started(config, source=str(path), families=families) as host:
            doc = build_export(host, uetr, include_zkp, include_model_snapshot, config.audit_trail.signing_key)
    except AegisError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    output.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    click.echo(f"{doc['uetr']}: {doc['decision']} ({doc['reason_code']}) exported to {output}")


if __name__ == "__main__":  # pragma: no cover
    main()
