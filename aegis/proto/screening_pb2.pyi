# ruff: noqa
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    CLEAR: _ClassVar[Verdict]
    INVESTIGATE: _ClassVar[Verdict]
    BLOCK: _ClassVar[Verdict]
VERDICT_UNSPECIFIED: Verdict
CLEAR: Verdict
INVESTIGATE: Verdict
BLOCK: Verdict

class Party(_message.Message):
    __slots__ = ("name", "account", "bic", "country", "date_of_birth")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BIC_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    account: str
    bic: str
    country: str
    date_of_birth: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., bic: _Optional[str] = ..., country: _Optional[str] = ..., date_of_birth: _Optional[str] = ...) -> None: ...

class Transaction(_message.Message):
    __slots__ = ("uetr", "created_at", "amount", "currency", "debtor", "creditor", "purpose", "channel", "remittance_info", "debtor_balance_before", "creditor_balance_before")
    UETR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DEBTOR_FIELD_NUMBER: _ClassVar[int]
    CREDITOR_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REMITTANCE_INFO_FIELD_NUMBER: _ClassVar[int]
    DEBTOR_BALANCE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CREDITOR_BALANCE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    uetr: str
    created_at: str
    amount: str
    currency: str
    debtor: Party
    creditor: Party
    purpose: str
    channel: str
    remittance_info: str
    debtor_balance_before: str
    creditor_balance_before: str
    def __init__(self, uetr: _Optional[str] = ..., created_at: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., debtor: _Optional[_Union[Party, _Mapping]] = ..., creditor: _Optional[_Union[Party, _Mapping]] = ..., purpose: _Optional[str] = ..., channel: _Optional[str] = ..., remittance_info: _Optional[str] = ..., debtor_balance_before: _Optional[str] = ..., creditor_balance_before: _Optional[str] = ...) -> None: ...

class TransactionBatch(_message.Message):
    __slots__ = ("transactions",)
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("uetr", "decision", "reason_code", "risk_score", "risk_factors", "factor_scores", "explanation", "errors", "timestamp", "versions", "thresholds", "origin")
    class RiskFactorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class FactorScoresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ExplanationEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class VersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ThresholdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    UETR_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    RISK_SCORE_FIELD_NUMBER: _ClassVar[int]
    RISK_FACTORS_FIELD_NUMBER: _ClassVar[int]
    FACTOR_SCORES_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    uetr: str
    decision: Verdict
    reason_code: str
    risk_score: float
    risk_factors: _containers.ScalarMap[str, float]
    factor_scores: _containers.ScalarMap[str, float]
    explanation: _containers.ScalarMap[str, str]
    errors: _containers.RepeatedScalarFieldContainer[str]
    timestamp: str
    versions: _containers.ScalarMap[str, str]
    thresholds: _containers.ScalarMap[str, float]
    origin: str
    def __init__(self, uetr: _Optional[str] = ..., decision: _Optional[_Union[Verdict, str]] = ..., reason_code: _Optional[str] = ..., risk_score: _Optional[float] = ..., risk_factors: _Optional[_Mapping[str, float]] = ..., factor_scores: _Optional[_Mapping[str, float]] = ..., explanation: _Optional[_Mapping[str, str]] = ..., errors: _Optional[_Iterable[str]] = ..., timestamp: _Optional[str] = ..., versions: _Optional[_Mapping[str, str]] = ..., thresholds: _Optional[_Mapping[str, float]] = ..., origin: _Optional[str] = ...) -> None: ...

class RecordError(_message.Message):
    __slots__ = ("index", "uetr", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    UETR_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    uetr: str
    error: str
    def __init__(self, index: _Optional[int] = ..., uetr: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class ScreenResult(_message.Message):
    __slots__ = ("decision", "error")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    error: RecordError
    def __init__(self, decision: _Optional[_Union[Decision, _Mapping]] = ..., error: _Optional[_Union[RecordError, _Mapping]] = ...) -> None: ...

class DecisionBatch(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScreenResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ScreenResult, _Mapping]]] = ...) -> None: ...
