"""gRPC ``GetTransactionAudit``: the regulatory export over the wire (same content as the CLI)."""

from __future__ import annotations

from concurrent import futures

import grpc
import orjson

from aegis.proto import audit_pb2, audit_pb2_grpc
from aegis.regulatory_export import ExportError, build_export


def to_proof(doc: dict) -> audit_pb2.AuditProof:
    """An export document as the protobuf message (optional values become empty)."""
    proof = doc["inclusion_proof"]
    zkp = doc.get("zkp_proof_b64")
    return audit_pb2.AuditProof(
        uetr=doc["uetr"], decision=doc["decision"], reason_code=doc["reason_code"],
        model_version_hash=doc.get("model_version_hash") or "",
        zkp_proof=zkp.encode() if zkp else b"",
        timestamp_signature=doc["hsm_timestamp_signature"],
        risk_factors={k: float(v) for k, v in (doc.get("risk_factors") or {}).items()},
        sanctions_list_version=doc.get("sanctions_list_version") or "",
        timestamp=doc["timestamp"], record_hash=doc["record_hash"], record_line=doc["record_line"],
        inclusion_proof=audit_pb2.InclusionProof(leaf_index=proof["leaf_index"], tree_size=proof["tree_size"],
                                                 path=proof["path"]),
        checkpoint_json=orjson.dumps(doc["checkpoint"]).decode(),
        public_key_fingerprint=doc["public_key_fingerprint"],
        model_snapshot_json=orjson.dumps(doc["model_snapshot"]).decode() if "model_snapshot" in doc else "",
        sink=doc["sink"],
    )


class RegulatoryAudit(audit_pb2_grpc.RegulatoryAuditServicer):
    """Answers from a started host holding the deployment's secrets and audit plugins."""

    def __init__(self, host, signing_key: str = "audit"):
        self.host = host
        self.signing_key = signing_key

    def GetTransactionAudit(self, request, context):
        try:
            doc = build_export(self.host, request.uetr, request.include_zkp_proof, request.include_model_snapshot,
                               self.signing_key)
        except ExportError as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        return to_proof(doc)


def serve(host, address: str, signing_key: str = "audit", workers: int = 4) -> tuple[grpc.Server, int]:
    """Start the service on ``address`` (``host:port``; port 0 picks one); return the server and its port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    audit_pb2_grpc.add_RegulatoryAuditServicer_to_server(RegulatoryAudit(host, signing_key), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return server, port
