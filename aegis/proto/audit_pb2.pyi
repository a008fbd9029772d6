# ruff: noqa
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditRequest(_message.Message):
    __slots__ = ("uetr", "include_zkp_proof", "include_model_snapshot")
    UETR_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ZKP_PROOF_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MODEL_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    uetr: str
    include_zkp_proof: bool
    include_model_snapshot: bool
    def __init__(self, uetr: _Optional[str] = ..., include_zkp_proof: _Optional[bool] = ..., include_model_snapshot: _Optional[bool] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("leaf_index", "tree_size", "path")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    tree_size: int
    path: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ..., path: _Optional[_Iterable[str]] = ...) -> None: ...

class AuditProof(_message.Message):
    __slots__ = ("uetr", "decision", "reason_code", "model_version_hash", "zkp_proof", "timestamp_signature", "risk_factors", "sanctions_list_version", "timestamp", "record_hash", "record_line", "inclusion_proof", "checkpoint_json", "public_key_fingerprint", "model_snapshot_json", "sink")
    class RiskFactorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    UETR_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_HASH_FIELD_NUMBER: _ClassVar[int]
    ZKP_PROOF_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RISK_FACTORS_FIELD_NUMBER: _ClassVar[int]
    SANCTIONS_LIST_VERSION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RECORD_HASH_FIELD_NUMBER: _ClassVar[int]
    RECORD_LINE_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    MODEL_SNAPSHOT_JSON_FIELD_NUMBER: _ClassVar[int]
    SINK_FIELD_NUMBER: _ClassVar[int]
    uetr: str
    decision: str
    reason_code: str
    model_version_hash: str
    zkp_proof: bytes
    timestamp_signature: str
    risk_factors: _containers.ScalarMap[str, float]
    sanctions_list_version: str
    timestamp: str
    record_hash: str
    record_line: str
    inclusion_proof: InclusionProof
    checkpoint_json: str
    public_key_fingerprint: str
    model_snapshot_json: str
    sink: str
    def __init__(self, uetr: _Optional[str] = ..., decision: _Optional[str] = ..., reason_code: _Optional[str] = ..., model_version_hash: _Optional[str] = ..., zkp_proof: _Optional[bytes] = ..., timestamp_signature: _Optional[str] = ..., risk_factors: _Optional[_Mapping[str, float]] = ..., sanctions_list_version: _Optional[str] = ..., timestamp: _Optional[str] = ..., record_hash: _Optional[str] = ..., record_line: _Optional[str] = ..., inclusion_proof: _Optional[_Union[InclusionProof, _Mapping]] = ..., checkpoint_json: _Optional[str] = ..., public_key_fingerprint: _Optional[str] = ..., model_snapshot_json: _Optional[str] = ..., sink: _Optional[str] = ...) -> None: ...
