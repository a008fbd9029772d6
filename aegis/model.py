"""The data Aegis screens and decides: the external transaction contract,
the columnar batch that scoring plugins work on, and the decision record.

``Transaction`` is the contract with the bank: every field is validated and a
bad one is rejected with a precise reason. Inside the pipeline transactions
travel as a ``Batch`` (struct of numpy arrays), so scoring never loops in
Python per transaction.
"""

from __future__ import annotations

import enum
import functools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from aegis.iban import is_valid_iban

ISO_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
ISO_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}  # XK: Kosovo, user-assigned
#: ISO 4217 currencies whose minor unit is not 1/100.
_MINOR_EXPONENT = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
                   "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
                   "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")


#: amounts in minor units must stay below this (the int64 ``amount_minor`` column)
MAX_MINOR_UNITS = 2**63
#: the times a batch column can hold (int64 nanoseconds since the epoch), in whole years
EARLIEST = datetime(1678, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{value.isoformat()} is outside the supported range (years 1678 to 2261)")
    return value


def _currency(value: str) -> str:
    if value not in ISO_CURRENCIES:
        raise ValueError(f"not an ISO 4217 currency code: {value!r}")
    return value


def _country(value: str) -> str:
    if value not in ISO_COUNTRIES:
        raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
    return value


def _bic(value: str) -> str:
    if not _BIC.match(value):
        raise ValueError(f"not a BIC (ISO 9362): {value!r}")
    if value[4:6] not in ISO_COUNTRIES:
        raise ValueError(f"BIC {value!r} has unknown country {value[4:6]!r}")
    return value


@functools.lru_cache(maxsize=131072)
def _account(value: str) -> str:
    """An account is an IBAN (checked) or an opaque account id.

    Cached: accounts repeat, and an IBAN check (checksum, national format, the country's own
    check; :mod:`aegis.iban`, about 1 µs) is worth skipping. A rejected IBAN raises and is not cached.
    """
    if not (value[:2].isalpha() and value[2:4].isdigit()):
        return value  # cannot be an IBAN: skip the regex on the hot path
    compact = value.replace(" ", "")
    if _IBAN_SHAPE.match(compact) and compact[:2] in ISO_COUNTRIES:
        if not is_valid_iban(compact):
            raise ValueError(f"invalid IBAN (checksum or national format): {value!r}")
        return compact
    return value


CurrencyCode = Annotated[str, AfterValidator(_currency)]
CountryCode = Annotated[str, AfterValidator(_country)]


class Party(BaseModel):
    """Debtor or creditor of a payment (ISO 20022 ``Dbtr``/``Cdtr`` with account and agent)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: Annotated[str, Field(max_length=140)] | None = None
    account: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_account)]
    bic: Annotated[str, AfterValidator(_bic)] | None = None
    country: CountryCode | None = None
    date_of_birth: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Transaction(BaseModel):
    """One payment to screen. Field names follow ISO 20022 pacs.008 where one exists."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    uetr: uuid.UUID
    created_at: Annotated[AwareDatetime, AfterValidator(_in_range)]
    amount: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=4, allow_inf_nan=False)]
    currency: CurrencyCode
    debtor: Party
    creditor: Party
    purpose: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,4}$")] | None = None
    channel: Annotated[str, Field(max_length=32)] | None = None
    remittance_info: Annotated[str, Field(max_length=140)] | None = None
    debtor_balance_before: Decimal | None = Field(default=None, allow_inf_nan=False)
    creditor_balance_before: Decimal | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _minor_units_fit(self) -> Transaction:
        # batches keep amounts in minor units as int64: 16 digits before the point leave room for
        # cents, not for the thousandths of BHD, KWD, ... above about 9.2 quadrillion
        exponent = _MINOR_EXPONENT.get(self.currency, 2)
        if self.amount.scaleb(exponent) >= MAX_MINOR_UNITS:
            raise ValueError(f"amount {self.amount} {self.currency} is {self.amount.scaleb(exponent):.0f} minor units "
                             f"(1/10^{exponent}); at most {MAX_MINOR_UNITS - 1} are supported")
        return self


TRANSACTIONS = TypeAdapter(list[Transaction])
TRANSACTION = TypeAdapter(Transaction)


_RECORD_BOUNDARY = b'},{"uetr":"'


def canonical_json(txs: list[Transaction]) -> list[bytes]:
    """Canonical JSON of each transaction (compact, ``None`` fields left out).

    Serialised as one list in a single pydantic-core call and cut at the record boundaries:
    ``uetr`` is the first field and a quote inside a JSON string is always escaped, so
    ``},{"uetr":"`` only ever occurs between two records.
    """
    if not txs:
        return []
    blob = TRANSACTIONS.dump_json(txs, exclude_none=True)
    parts = blob[1:-1].split(_RECORD_BOUNDARY)
    if len(parts) != len(txs):  # defensive: never trust the cut over the model
        return [TRANSACTION.dump_json(t, exclude_none=True) for t in txs]
    if len(parts) == 1:
        return parts
    head, *middle, last = parts
    return [head + b"}", *(b'{"uetr":"' + p + b"}" for p in middle), b'{"uetr":"' + last]


def country_code(value: str | None) -> int:
    """Pack an ISO alpha-2 code into a small int (``-1`` when absent) for numba kernels."""
    if not value:
        return -1
    return (ord(value[0]) - 65) * 26 + (ord(value[1]) - 65)


class AccountIndex:
    """Interns account identifiers as dense int64 ids, stable for the process lifetime.

    Ids are process-local: state that leaves the process (a shard checkpoint) names accounts by
    string (:meth:`names`) and is mapped back to this process's ids with :meth:`intern`.
    Safe to call from several threads (intake threads intern, the main thread restores state).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def intern(self, accounts: list[str]) -> np.ndarray:
        """The ids of ``accounts``; new accounts get the next ids, in order of appearance.

        Without the lock when every account is known (the common case). That is safe under the
        GIL: ids are only ever added, never changed or removed, and looking up a ``str`` in a dict
        is one atomic step, so a lookup finds an account with its final id or not at all. An
        account not found sends the batch the locked way, which adds what is still missing.
        """
        ids = self._ids
        try:
            return np.fromiter(map(ids.__getitem__, accounts), np.int64, len(accounts))
        except KeyError:
            pass
        with self._lock:
            for a in accounts:
                if a not in ids:
                    ids[a] = len(ids)
            return np.fromiter(map(ids.__getitem__, accounts), np.int64, len(accounts))

    def names(self, ids: np.ndarray) -> list[str]:
        """The account strings of ``ids`` (ids this index handed out)."""
        with self._lock:
            if len(self._names) < len(self._ids):
                self._names = list(self._ids)  # insertion order is id order
            names = self._names
        return [names[i] for i in np.asarray(ids, dtype=np.int64).tolist()]


@dataclass
class Batch:
    """Validated transactions as columns (struct of arrays) plus the strings name screening needs.

    Arrays all have length ``n``. Account ids are interned per process (:class:`AccountIndex`);
    countries are packed with :func:`country_code`; times are int64 ns since the Unix epoch (UTC).
    ``shard`` (int32, or ``None`` when the source has no shards) is the source's unit of
    partition-local state per record, e.g. the Kafka partition (``RawBatch.shards``).
    """

    uetr: list[str]
    created_at_ns: np.ndarray
    amount: np.ndarray  # float64, major units
    amount_minor: np.ndarray  # int64, minor units of ``currency``
    currency: list[str]
    debtor_account: np.ndarray
    creditor_account: np.ndarray
    debtor_country: np.ndarray  # int16
    creditor_country: np.ndarray
    debtor_balance_before: np.ndarray  # float64, NaN when absent
    debtor_name: list[str | None]
    creditor_name: list[str | None]
    channel: list[str | None]
    origins: list[str]
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    shard: np.ndarray | None = None
    #: the account strings behind ``debtor_account`` / ``creditor_account`` (what a plugin that
    #: needs the real account, e.g. to pseudonymise it, reads; ids are process-local)
    debtor_account_str: list[str] = field(default_factory=list)
    creditor_account_str: list[str] = field(default_factory=list)
    _transactions: list[Transaction] | None = field(default=None, repr=False)
    _canonical: list[bytes] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.uetr)

    def __len__(self) -> int:
        return len(self.uetr)

    @property
    def transactions(self) -> list[Transaction]:
        """The validated models; rebuilt from the canonical JSON when the batch was decoded in
        another process (a plugin that needs fields beyond the columns pays for it)."""
        if self._transactions is None:
            txs = TRANSACTIONS.validate_json(b"[" + b",".join(self.canonical_json()) + b"]")
            if len(txs) != self.n:
                raise ValueError("canonical JSON does not match the batch")
            self._transactions = txs
        return self._transactions

    @classmethod
    def from_transactions(cls, txs: list[Transaction], accounts: AccountIndex,
                          origins: list[str] | None = None,
                          labels: dict[str, np.ndarray] | None = None,
                          shard: np.ndarray | None = None) -> Batch:
        return cls.from_columns(BatchColumns.of(txs, origins, labels, shard=shard), accounts, txs)

    @classmethod
    def from_columns(cls, cols: BatchColumns, accounts: AccountIndex,
                     transactions: list[Transaction] | None = None) -> Batch:
        """Intern the account strings (per process) and assemble the batch.

        Debtors and creditors are interned in one call (debtors first, so new accounts get the
        ids two calls would give them); the fields are passed in order, positionally, which is
        cheaper than by name (a test checks that each lands in the field of its name).
        """
        n = len(cols.uetr)
        ids = accounts.intern(cols.debtor_account + cols.creditor_account)
        return cls(cols.uetr, cols.created_at_ns, cols.amount, cols.amount_minor, cols.currency, ids[:n], ids[n:],
                   cols.debtor_country, cols.creditor_country, cols.debtor_balance_before, cols.debtor_name,
                   cols.creditor_name, cols.channel, cols.origins, cols.labels, cols.shard, cols.debtor_account,
                   cols.creditor_account, transactions, cols.canonical)

    def canonical_json(self) -> list[bytes]:
        """Canonical JSON of each transaction (what audit records embed), computed once."""
        if self._canonical is None:
            self._canonical = canonical_json(self._transactions or [])
        return self._canonical

    def take(self, index: np.ndarray) -> Batch:
        """The sub-batch at positions ``index`` (used to split work, e.g. by partition)."""
        idx = [int(i) for i in index]
        return Batch(
            uetr=[self.uetr[i] for i in idx],
            created_at_ns=self.created_at_ns[index], amount=self.amount[index],
            amount_minor=self.amount_minor[index], currency=[self.currency[i] for i in idx],
            debtor_account=self.debtor_account[index], creditor_account=self.creditor_account[index],
            debtor_country=self.debtor_country[index], creditor_country=self.creditor_country[index],
            debtor_balance_before=self.debtor_balance_before[index],
            debtor_name=[self.debtor_name[i] for i in idx], creditor_name=[self.creditor_name[i] for i in idx],
            channel=[self.channel[i] for i in idx],
            origins=[self.origins[i] for i in idx],
            labels={k: v[index] for k, v in self.labels.items()},
            shard=self.shard[index] if self.shard is not None else None,
            debtor_account_str=[self.debtor_account_str[i] for i in idx] if self.debtor_account_str else [],
            creditor_account_str=[self.creditor_account_str[i] for i in idx] if self.creditor_account_str else [],
            _transactions=[self.transactions[i] for i in idx],
        )


@dataclass
class BatchColumns:
    """Everything a batch needs except per-process account ids: what a decode worker process
    returns (plain arrays, strings and bytes pickle cheaply; pydantic models do not)."""

    uetr: list[str]
    created_at_ns: np.ndarray
    amount: np.ndarray
    amount_minor: np.ndarray
    currency: list[str]
    debtor_account: list[str]
    creditor_account: list[str]
    debtor_country: np.ndarray
    creditor_country: np.ndarray
    debtor_balance_before: np.ndarray
    debtor_name: list[str | None]
    creditor_name: list[str | None]
    channel: list[str | None]
    origins: list[str]
    labels: dict[str, np.ndarray]
    canonical: list[bytes] | None = None
    shard: np.ndarray | None = None  # int32 per record (``Batch.shard``)

    def __reduce__(self) -> tuple:
        """Pickled (from a decode worker to the process that scores) with each column of strings
        joined into one string, split again on arrival: one large object for pickle to write (and
        remember) instead of thousands of small ones. A line feed separates them; a column where a
        value holds one (or ``None``, unless all are) travels as it is, and so does the canonical
        JSON (pickle reads many ``bytes`` faster than ``bytes.split`` cuts one)."""
        return _unpickle_columns, (
            len(self.uetr), _joined(self.uetr), self.created_at_ns, self.amount, self.amount_minor,
            _joined(self.currency), _joined(self.debtor_account), _joined(self.creditor_account), self.debtor_country,
            self.creditor_country, self.debtor_balance_before, _joined(self.debtor_name), _joined(self.creditor_name),
            _joined(self.channel), _joined(self.origins), self.labels, self.canonical, self.shard)

    @classmethod
    def of(cls, txs: list[Transaction], origins: list[str] | None = None,
           labels: dict[str, np.ndarray] | None = None, canonical: bool = False,
           shard: np.ndarray | None = None) -> BatchColumns:
        columns = cls.of_rows([TransactionRow.of(t) for t in txs], origins, labels, shard=shard)
        if canonical:
            columns.canonical = canonical_json(txs)
        return columns

    @classmethod
    def of_rows(cls, rows: list[TransactionRow], origins: list[str] | None = None,
                labels: dict[str, np.ndarray] | None = None, shard: np.ndarray | None = None) -> BatchColumns:
        """Columns of validated rows (their canonical JSON too when every row carries it)."""
        return cls.of_fields([r.fields() for r in rows], origins, labels, shard)

    @classmethod
    def of_fields(cls, rows: list[tuple], origins: list[str] | None = None,
                  labels: dict[str, np.ndarray] | None = None, shard: np.ndarray | None = None) -> BatchColumns:
        """Columns of validated rows given as :data:`ROW_FIELDS` tuples (:meth:`TransactionRow.fields`),
        each column cut in one pass over the rows.

        Few numpy calls, whatever the batch's size (what counts for a batch of one transaction): the
        int64 columns are views of one array, and so are the int16 ones.
        """
        n = len(rows)
        (uetr, times, amounts, currency, debtors, creditors, balances, channel,
         canonical) = zip(*rows, strict=True) if n else [()] * len(ROW_FIELDS)
        minor: Any = map(_SECOND, amounts)  # in hundredths: right unless a currency has other minor units
        if not _MINOR_EXPONENT.keys().isdisjoint(currency):
            minor = [a[1] if c not in _MINOR_EXPONENT else int(a[2].scaleb(_MINOR_EXPONENT[c]))
                     for a, c in zip(amounts, currency, strict=True)]
        if balances.count(None) == n:  # the common case: no balance given
            balance = np.empty(n)
            balance.fill(_NAN)
        else:
            balance = np.fromiter((_NAN if b is None else b for b in balances), np.float64, n)
        # numpy's calls are positional: parsing keywords costs them more than filling a small array
        ints = np.fromiter(chain(map(_FIRST, times), minor), np.int64, 2 * n)
        countries = np.fromiter(chain(map(_THIRD, debtors), map(_THIRD, creditors)), np.int16, 2 * n)
        return cls(  # positionally, in the fields' order: cheaper than by name
            list(uetr), ints[:n], np.fromiter(map(_FIRST, amounts), np.float64, n), ints[n:], list(currency),
            list(map(_FIRST, debtors)), list(map(_FIRST, creditors)), countries[:n], countries[n:], balance,
            list(map(_SECOND, debtors)), list(map(_SECOND, creditors)), list(channel),
            origins if origins is not None else [""] * n, labels or {},
            list(canonical) if n and all(canonical) else None,  # JSON documents (never empty) or None
            None if shard is None else np.asarray(shard, np.int32))


def _joined(values: list[Any]) -> Any:
    """A column of strings (or of bytes) for pickling: one string with a line feed between the
    values when none holds one; ``None`` when all are ``None``; else the list itself (:func:`_split`)."""
    if not values:
        return values
    first = values[0]
    if first is None:
        return None if values.count(None) == len(values) else values
    empty = first[:0]
    try:
        whole = empty.join(values)
    except TypeError:  # None, or bytes among strings
        return values
    line = "\n" if empty.__class__ is str else b"\n"
    return values if line in whole else line.join(values)


def _split(packed: Any, n: int) -> list[Any]:
    """The column :func:`_joined` packed."""
    if packed is None:
        return [None] * n
    if packed.__class__ is str:
        return packed.split("\n")
    if packed.__class__ is bytes:
        return packed.split(b"\n")
    return packed


def _unpickle_columns(n: int, uetr: Any, created_at_ns: np.ndarray, amount: np.ndarray, amount_minor: np.ndarray,
                      currency: Any, debtor_account: Any, creditor_account: Any, debtor_country: np.ndarray,
                      creditor_country: np.ndarray, debtor_balance_before: np.ndarray, debtor_name: Any,
                      creditor_name: Any, channel: Any, origins: Any, labels: dict[str, np.ndarray], canonical: Any,
                      shard: np.ndarray | None) -> BatchColumns:
    """:meth:`BatchColumns.__reduce__` undone."""
    return BatchColumns(
        _split(uetr, n), created_at_ns, amount, amount_minor, _split(currency, n), _split(debtor_account, n),
        _split(creditor_account, n), debtor_country, creditor_country, debtor_balance_before, _split(debtor_name, n),
        _split(creditor_name, n), _split(channel, n), _split(origins, n), labels, canonical, shard)


def _epoch_ns(when: datetime) -> int:
    """A time as int64 nanoseconds since the epoch, in whole microseconds: ``int(stamp * 1_000_000) * 1000``
    of its POSIX timestamp. The model keeps times within years 1678 to 2261, inside int64."""
    return int(when.timestamp() * 1_000_000) * 1000


class TransactionRow(msgspec.Struct, frozen=True, gc=False):
    """What a batch's columns are built from, whichever decoder validated the transaction.

    ``debtor`` and ``creditor`` are parties with ``account``, ``name`` and ``country``;
    ``canonical`` is the transaction's canonical JSON when the decoder produced it.
    A struct, not a named tuple: built in C, a few times cheaper on the decode hot path (never in
    a reference cycle, so left out of garbage collection).
    """

    uetr: str
    created_at: datetime
    amount: Decimal
    currency: str
    debtor: Any
    creditor: Any
    channel: str | None
    debtor_balance: Decimal | None
    canonical: bytes | None

    @classmethod
    def of(cls, t: Transaction, canonical: bytes | None = None) -> TransactionRow:
        """The row of a validated model."""
        return cls(str(t.uetr), t.created_at, t.amount, t.currency, t.debtor, t.creditor, t.channel,
                   t.debtor_balance_before, canonical)

    def fields(self) -> tuple:
        """The row's :data:`ROW_FIELDS` (what :meth:`BatchColumns.of_fields` cuts columns from)."""
        debtor, creditor, amount = self.debtor, self.creditor, self.amount
        return (self.uetr, (_epoch_ns(self.created_at), self.created_at),
                (float(amount), int(amount.scaleb(2)), amount), self.currency,
                (debtor.account, debtor.name, country_code(debtor.country), None, debtor),
                (creditor.account, creditor.name, country_code(creditor.country), None, creditor),
                self.debtor_balance, self.channel, self.canonical)


_NAN = float("nan")
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
#: A row as a plain tuple, what batch columns are cut from in one pass per column
#: (:meth:`BatchColumns.of_fields`): the UETR; the time as ``(nanoseconds since the epoch, datetime)``
#: (:func:`_epoch_ns`); the amount as ``(float, value in hundredths, Decimal)``; the currency; each
#: party as ``(account, name, country packed by country_code, what the encoder writes or None,
#: party)``; the debtor's balance (``Decimal`` or ``None``); the channel; the canonical JSON (or
#: ``None``). The fast decoder builds these directly, sharing the tuples of times, amounts and
#: parties it has seen (:func:`aegis.fast_decode.fast_batch`).
ROW_FIELDS = ("uetr", "created_at", "amount", "currency", "debtor", "creditor", "debtor_balance_before", "channel",
              "canonical")


@dataclass(frozen=True)
class Reject:
    """An input record that could not become a transaction, with what was wrong and where."""

    origin: str  # e.g. "paysim.csv:1234" or "zmq:client-7"
    reason: str
    payload: bytes
    uetr: str | None = None


@dataclass
class RawBatch:
    """What an ingress plugin hands the kernel: undecoded records and a token to acknowledge.

    ``payloads`` hold JSON documents (``bytes``) or already parsed mappings; ``origins`` say
    where each came from (file and line, partition and offset). ``labels`` carries side
    channels that never enter screening (e.g. PaySim's ``isFraud`` for benchmarks).
    ``rejects`` are records the ingress itself could not parse (e.g. a malformed CSV row).
    ``shards`` optionally names each payload's shard (e.g. its Kafka partition): the unit whose
    scoring state moves between processes (:func:`aegis.hookspecs.aegis_scoring_state_save`);
    decoding carries it into ``Batch.shard``.
    """

    source: str
    payloads: list[Any]
    origins: list[str]
    token: Any = None
    final: bool = False
    labels: dict[str, list[Any]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    progress: tuple[int, int] | None = None  # (done, total) in the source's own unit
    drops: int = 0  # records refused since the last batch under backpressure (e.g. BUSY replies)
    received_ns: int = 0
    shards: list[int] | np.ndarray | None = None  # one per payload, aligned with ``payloads``


@dataclass(frozen=True)
class FactorScores:
    """One named factor's scores in [0, 1] for every transaction of a batch.

    ``details`` optionally explains each non-zero score (e.g. the sanctions entry matched).
    ``hard_block`` marks transactions that must be blocked whatever the weighted risk
    (e.g. a sanctions match at or above ``block_at``).
    """

    scores: np.ndarray
    reason_code: str
    details: list[str | None] | None = None
    hard_block: np.ndarray | None = None


@dataclass(frozen=True)
class ScoreResult:
    """A scoring plugin's answer for one batch: its factors and the versions that produced them."""

    factors: dict[str, FactorScores]
    versions: dict[str, str] = field(default_factory=dict)


class Decision(enum.IntEnum):
    CLEAR = 0
    INVESTIGATE = 1
    BLOCK = 2


RC_CLEAR = "RC_CLEAR"
RC_SCREENING_ERROR = "RC_SCREENING_ERROR"


class DecisionRecord(BaseModel):
    """One audit record, as sinks store it and as regulators read it back."""

    model_config = ConfigDict(extra="allow", frozen=True)

    uetr: str
    decision: Literal["CLEAR", "INVESTIGATE", "BLOCK"]
    reason_code: str
    risk_score: float
    risk_factors: dict[str, float]
    factor_scores: dict[str, float]
    explanation: dict[str, str] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    timestamp: datetime
    model_version_hash: str | None = None
    rules_version: str | None = None
    sanctions_list_version: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, float]
    origin: str = ""
    transaction: dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


#: (epoch second, its ISO 8601 text) of the last :func:`utc_timestamp`
_STAMPED_SECOND: tuple[int, str] = (-1, "")


def utc_timestamp() -> str:
    """Now in UTC as the records write it: ISO 8601 to the microsecond with ``Z``
    (``2026-11-27T19:02:48.123456Z``). The text up to the second is made once a second."""
    global _STAMPED_SECOND
    second, micros = divmod(time.time_ns() // 1000, 1_000_000)
    stamped = _STAMPED_SECOND
    if stamped[0] != second:
        stamped = _STAMPED_SECOND = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{stamped[1]}.{micros:06d}Z"
