"""Between protobuf messages (``aegis.v1``) and the JSON the pipeline and the replies speak."""

from __future__ import annotations

from typing import Any

from aegis.proto import screening_pb2 as pb

_PARTY_OPTIONAL = ("name", "bic", "country", "date_of_birth")
_TX_OPTIONAL = ("purpose", "channel", "remittance_info", "debtor_balance_before", "creditor_balance_before")
_VERDICTS = {"CLEAR": pb.CLEAR, "INVESTIGATE": pb.INVESTIGATE, "BLOCK": pb.BLOCK}


def _party(message: pb.Party) -> dict[str, Any]:
    party: dict[str, Any] = {"account": message.account}
    for name in _PARTY_OPTIONAL:
        if message.HasField(name):
            party[name] = getattr(message, name)
    return party


def transaction_document(message: pb.Transaction) -> dict[str, Any]:
    """The transaction as the JSON document the kernel validates (absent optional fields left out)."""
    doc: dict[str, Any] = {"uetr": message.uetr, "created_at": message.created_at, "amount": message.amount,
                           "currency": message.currency}
    if message.HasField("debtor"):
        doc["debtor"] = _party(message.debtor)
    if message.HasField("creditor"):
        doc["creditor"] = _party(message.creditor)
    for name in _TX_OPTIONAL:
        if message.HasField(name):
            doc[name] = getattr(message, name)
    return doc


def decision_message(result: dict[str, Any]) -> pb.Decision:
    """A decision result (the audit record without the transaction) as a protobuf ``Decision``."""
    versions = {k: str(v) for k, v in (result.get("versions") or {}).items()}
    for key in ("model_version_hash", "rules_version", "sanctions_list_version"):
        if result.get(key):
            versions[key] = str(result[key])
    return pb.Decision(
        uetr=result["uetr"], decision=_VERDICTS.get(result["decision"], pb.VERDICT_UNSPECIFIED),
        reason_code=result["reason_code"], risk_score=result["risk_score"],
        risk_factors=result.get("risk_factors") or {}, factor_scores=result.get("factor_scores") or {},
        explanation={k: str(v) for k, v in (result.get("explanation") or {}).items()},
        errors=[str(e) for e in result.get("errors") or []], timestamp=str(result.get("timestamp", "")),
        versions=versions, thresholds=result.get("thresholds") or {}, origin=str(result.get("origin", "")))


def screen_result(result: dict[str, Any]) -> pb.ScreenResult:
    """One entry of a ``DecisionBatch``: the decision, or the error of a rejected transaction."""
    if "error" in result:
        return pb.ScreenResult(error=pb.RecordError(index=result.get("index") or 0, uetr=result.get("uetr") or "",
                                                    error=result["error"]))
    return pb.ScreenResult(decision=decision_message(result))
