"""The fast path of transaction decoding: well-formed JSON straight to checked values.

msgspec decodes each payload into a plain struct and every rule of :class:`~aegis.model.Transaction`
is checked in a few comparisons, without building pydantic models. Parties repeat, so each distinct
party (as raw JSON) is checked once and then looked up; times and amounts that repeat are looked up
too, while that pays (:class:`_Upkeep`). A batch (:func:`fast_batch`) reads UETRs as plain strings and
checks them all at once. The fast path only accepts what it can show the model accepts *and*
normalises to the same values: anything else (surrounding whitespace, an amount in an unusual
spelling, a time with more than six fractional digits, any error at all) is left to pydantic, which
decides and words the reason. Both paths give the same columns and byte-identical canonical JSON (a
differential test checks it on generated input); the fast one is several times cheaper.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal

import msgspec

from aegis.model import (
    _BIC,
    _MINOR_EXPONENT,
    EARLIEST,
    ISO_COUNTRIES,
    ISO_CURRENCIES,
    LATEST,
    TransactionRow,
    _account,
    _epoch_ns,
    country_code,
)

# ASCII only: ``\d`` would also match other scripts' digits, which the model's parsers refuse.
_BIRTH = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?").fullmatch
_PURPOSE = re.compile(r"[A-Z0-9]{1,4}").fullmatch
_BIC_MATCH = _BIC.fullmatch
#: the amount's bounds (``gt=0``; 20 digits of which 4 places leave 16 before the point) and unit
_ZERO, _MAX_AMOUNT, _TICK = Decimal(0), Decimal(10**16), Decimal("0.0001")
#: the bounds of the model's times (:data:`~aegis.model.EARLIEST`, :data:`~aegis.model.LATEST`) in nanoseconds
_EARLIEST_NS, _LATEST_NS = _epoch_ns(EARLIEST), _epoch_ns(LATEST)
#: from here a currency with thousandths might overflow the minor-units column (2^63 / 1000 is about 9.22e15)
_LARGE_AMOUNT = 9.2e15

# The structs hold strings, numbers and each other, never a reference cycle: ``gc=False`` spares
# the collector from tracking them.


class FastParty(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, gc=False,
                frozen=True):
    """:class:`~aegis.model.Party` as msgspec decodes it (fields in the model's order); frozen, since a
    checked party is shared by every row that names it (the party cache)."""

    name: str | None = None
    account: str
    bic: str | None = None
    country: str | None = None
    date_of_birth: str | None = None


class FastTransaction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """:class:`~aegis.model.Transaction` as msgspec converts a mapping (fields in the model's order).

    msgspec checks the currency code and reads a UETR in a subset of the model's spellings (32 hex
    digits in either case, bare or with the four dashes) to the same value. Before encoding,
    :func:`_fields` puts in the parsed time, an int amount and the balances as ``Decimal`` and the
    checked parties (as their canonical JSON): msgspec writes each as the model does.
    """

    uetr: uuid.UUID
    created_at: str
    amount: str | int
    currency: Literal[tuple(sorted(ISO_CURRENCIES))]
    debtor: FastParty
    creditor: FastParty
    purpose: str | None = None
    channel: str | None = None
    remittance_info: str | None = None
    debtor_balance_before: str | int | None = None
    creditor_balance_before: str | int | None = None


class _JsonTransaction(FastTransaction, kw_only=True):
    """:class:`FastTransaction` as msgspec decodes a JSON document: the parties kept as raw JSON."""

    debtor: msgspec.Raw
    creditor: msgspec.Raw


class _UncheckedUetr(_JsonTransaction, kw_only=True):
    """:class:`_JsonTransaction` with the UETR read as a plain string (:func:`fast_batch` checks it)."""

    uetr: str


_DECODE = msgspec.json.Decoder(_JsonTransaction).decode
_DECODE_UNCHECKED = msgspec.json.Decoder(_UncheckedUetr).decode
_DECODE_PARTY = msgspec.json.Decoder(FastParty).decode
_CONVERT = msgspec.convert
_ENCODE = msgspec.json.Encoder().encode
_RAW = msgspec.Raw

# Bounded caches of what was checked per distinct value (cleared when full): parties repeat, and so
# may times and amounts. Each entry is what a row holds of the value (:data:`~aegis.model.ROW_FIELDS`:
# its columns first); a party's holds its canonical JSON too, a ``msgspec.Raw`` the encoder copies as
# it stands. A value refused is never remembered.
_PartyEntry = tuple[str, str | None, int, Any, FastParty]
_TimeEntry = tuple[int, datetime]
_AmountEntry = tuple[float, int, Decimal]
#: parties by their raw JSON: (account, name, packed country code, canonical JSON, party)
_PARTIES: dict[bytes, _PartyEntry] = {}
_KNOWN_PARTY = _PARTIES.get
_MAX_PARTIES = 1 << 16


class _Upkeep:
    """Whether a cache of times or amounts is worth its keep, reviewed after each batch.

    Whether they repeat depends on the source (times to the second repeat within a busy second,
    to the microsecond they do not), and a value remembered but never met again costs more than
    it saves. So over each window of ``window`` rows, a cache that found fewer than half of them
    (more than half were remembered) is emptied and rests: nothing is remembered for ``rest``
    rows, then it tries again. Only the cost changes, never a row: a value not found is checked.
    """

    __slots__ = ("entries", "on", "remembered", "rest", "rows", "size", "window")

    def __init__(self, entries: dict[str, Any], size: int, window: int, rest: int) -> None:
        self.entries, self.size, self.window, self.rest = entries, size, window, rest
        self.on = True
        self.remembered = self.rows = 0

    def remember(self, key: str, entry: Any) -> None:
        """Remember a value not found (unless resting), emptying the cache first when it is full."""
        if self.on:
            entries = self.entries
            if len(entries) >= self.size:
                entries.clear()
            entries[key] = entry
            self.remembered += 1

    def review(self, rows: int) -> None:
        """Account for a batch of ``rows`` rows (each looked up its value about once)."""
        self.rows += rows
        if self.on:
            if self.rows >= self.window:
                if 2 * self.remembered > self.rows:
                    self.on = False
                    self.entries.clear()
                self.rows = self.remembered = 0
        elif self.rows >= self.rest:
            self.on = True
            self.rows = self.remembered = 0


#: times by their spelling: (nanoseconds since the epoch, time); up to 32,768 of them, reviewed over 65,536
#: rows, resting for 524,288
_TIMES: dict[str, _TimeEntry] = {}
_KNOWN_TIME = _TIMES.get
_TIMES_KEPT = _Upkeep(_TIMES, 1 << 15, 1 << 16, 1 << 19)
#: string amounts by their spelling: (value as a float, value in hundredths, value); as many, as kept
_AMOUNTS: dict[str, _AmountEntry] = {}
_KNOWN_AMOUNT = _AMOUNTS.get
_AMOUNTS_KEPT = _Upkeep(_AMOUNTS, 1 << 15, 1 << 16, 1 << 19)


def _checked(p: FastParty) -> FastParty:
    """The party as the model normalises it (compact IBAN); ValueError when not provably valid."""
    account, name, bic, country, born = p.account, p.name, p.bic, p.country, p.date_of_birth
    if not (0 < len(account) <= 64 and account.strip() == account
            and (name is None or (len(name) <= 140 and name.strip() == name))
            and (bic is None or (_BIC_MATCH(bic) is not None and bic[4:6] in ISO_COUNTRIES))
            and (country is None or country in ISO_COUNTRIES)
            and (born is None or _BIRTH(born) is not None)):
        raise ValueError("party left to the model")
    compact = _account(account)  # raises on an invalid IBAN
    return p if compact == account else msgspec.structs.replace(p, account=compact)


def _party(raw: bytes) -> _PartyEntry:
    """Check a party not seen before and remember it."""
    party = _checked(_DECODE_PARTY(raw))
    entry = party.account, party.name, country_code(party.country), _RAW(_ENCODE(party)), party
    if len(_PARTIES) >= _MAX_PARTIES:
        _PARTIES.clear()
    _PARTIES[raw] = entry
    return entry


def _time(created_at: str, remember: bool = True) -> _TimeEntry | None:
    """The entry of a time not seen before (remembered unless told otherwise), ``None`` if it is
    left to the model.

    msgspec's RFC 3339 parser reads every time it takes as the model does, except that it rounds
    fractional seconds beyond the sixth digit where the model truncates: those are left to the model.
    The range is checked on the nanoseconds (comparing times costs two offset conversions in any zone
    but UTC). They never decrease as the time increases (a correctly rounded quotient, a product and
    a truncation), so a time strictly between the bounds' nanoseconds is within the model's range;
    one that rounds to a bound is left to the model.
    """
    when = _CONVERT(created_at, datetime)
    # msgspec took 19 fixed characters: 7 digits next are a 7th fractional digit (or a "+hhmm"
    # offset, left to the model as well)
    if when.tzinfo is None or created_at[20:27].isdigit():
        return None
    ns = _epoch_ns(when)
    if not _EARLIEST_NS < ns < _LATEST_NS:
        return None
    entry = ns, when
    if remember:
        _TIMES_KEPT.remember(created_at, entry)
    return entry


def _money(amount: str | int, remember: bool = True) -> _AmountEntry | None:
    """The entry of an amount not seen before (a string one remembered unless told otherwise),
    ``None`` if it is left to the model.

    The model reads amounts with ``Decimal`` too, so the values agree; a string amount must be
    spelt as the model writes it back, and its bounds and places are checked on the value (a NaN
    raises on comparison).
    """
    value = Decimal(amount)
    if amount.__class__ is not int and str(value) != amount:
        return None  # spelt otherwise than the model writes it (exponent, leading zeros, spaces, ...)
    if not (_ZERO < value < _MAX_AMOUNT) or value % _TICK:
        return None
    entry = float(value), int(value.scaleb(2)), value
    if remember and amount.__class__ is str:
        _AMOUNTS_KEPT.remember(amount, entry)
    return entry


def _balance(value: str | int | None) -> Decimal | None:
    """The model parses a balance with ``Decimal`` too and only refuses NaN and infinities."""
    if value is None:
        return None
    balance = Decimal(value)
    if not balance.is_finite():
        raise ValueError("balance left to the model")
    return balance


def _fields(payload: Any, decode: Any) -> tuple | None:
    """The :data:`~aegis.model.ROW_FIELDS` of a payload the fast path takes, else ``None``.

    ``decode`` reads a JSON document: with :data:`_DECODE` the UETR is parsed and then taken as the
    model writes it; with :data:`_DECODE_UNCHECKED` it is kept as spelt, for :func:`fast_batch` to check.
    """
    try:  # msgspec's errors are ValueErrors, as are a bad IBAN or balance; a NaN amount raises on comparison
        if isinstance(payload, (bytes, str)):
            t = decode(payload)
            d, c = bytes(t.debtor), bytes(t.creditor)
            debtor = _KNOWN_PARTY(d) or _party(d)
            creditor = _KNOWN_PARTY(c) or _party(c)
            created_at, amount = t.created_at, t.amount
            time = _KNOWN_TIME(created_at) or _time(created_at)
            money = _KNOWN_AMOUNT(amount) or _money(amount)
        else:  # a mapping: nothing remembered (its strings may be of a subclass of str)
            t = _CONVERT(payload, FastTransaction)
            p, q = _checked(t.debtor), _checked(t.creditor)
            debtor = p.account, p.name, country_code(p.country), p, p
            creditor = q.account, q.name, country_code(q.country), q, q
            created_at, amount = t.created_at, t.amount
            time, money = _time(created_at, False), _money(amount, False)
        if time is None or money is None:
            return None
        if money[0] >= _LARGE_AMOUNT and _MINOR_EXPONENT.get(t.currency, 2) > 2:
            return None  # its thousandths may not fit the minor-units column: the model decides
        if amount.__class__ is int:
            t.amount = money[2]
        purpose, channel, info = t.purpose, t.channel, t.remittance_info
        if not ((purpose is None or _PURPOSE(purpose) is not None)
                and (channel is None or (len(channel) <= 32 and channel.strip() == channel))
                and (info is None or (len(info) <= 140 and info.strip() == info))):
            return None
        balance, other = t.debtor_balance_before, t.creditor_balance_before
        if balance is not None or other is not None:
            t.debtor_balance_before = balance = _balance(balance)
            t.creditor_balance_before = _balance(other)
    except (ValueError, ArithmeticError):
        return None
    t.created_at, t.debtor, t.creditor = time[1], debtor[3], creditor[3]
    canonical = _ENCODE(t)
    uetr = t.uetr
    if uetr.__class__ is not str:
        uetr = canonical[9:45].decode()  # as the model writes it: the first field, after '{"uetr":"'
    return uetr, time, money, t.currency, debtor, creditor, balance, channel, canonical


def fast_row(payload: Any) -> TransactionRow | None:
    """The row of a JSON document or mapping that is a well-formed transaction in plain spelling,
    else ``None`` (the caller validates it with the model, which accepts or rejects with a reason).

    Times are read by msgspec (:func:`_time`), amounts and balances by ``Decimal`` as the model
    reads them (:func:`_money`, :func:`_balance`).
    """
    f = _fields(payload, _DECODE)
    if f is None:
        return None
    uetr, time, money, currency, debtor, creditor, balance, channel, canonical = f
    return TransactionRow(uetr, time[1], money[2], currency, debtor[4], creditor[4], channel, balance, canonical)


def _uetr_classes() -> bytes:
    """A ``bytes.translate`` table: lowercase hex digits to "1", a dash to "2", a line feed to "3",
    anything else to "0"."""
    table = bytearray(b"0" * 256)
    for c in b"0123456789abcdef":
        table[c] = ord("1")
    table[ord("-")], table[ord("\n")] = ord("2"), ord("3")
    return bytes(table)


_UETR_CLASSES = _uetr_classes()
#: a UETR in the model's spelling and the line feed after it, as :data:`_UETR_CLASSES` sees them
_UETR_LINE = b"00000000-0000-0000-0000-000000000000\n".translate(_UETR_CLASSES)
_FIRST = itemgetter(0)
_UETR_SPELT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch


def _misspelt(uetrs: list[str]) -> list[int]:
    """The positions of the UETRs not spelt as the model writes one (36 lowercase hex digits and
    dashes): checked all at once on their bytes, one by one only when one is not."""
    n = len(uetrs)
    try:
        lines = "\n".join(uetrs).encode("ascii")
    except UnicodeEncodeError:
        pass
    else:
        # n lines of 36 such bytes each, with n - 1 line feeds joining them: exactly the n UETRs
        if len(lines) == 37 * n - 1 and (_UETR_LINE * n).startswith(lines.translate(_UETR_CLASSES)):
            return []
    return [i for i, u in enumerate(uetrs) if _UETR_SPELT(u) is None]


def fast_batch(payloads: list[Any]) -> list[tuple | None]:
    """:func:`fast_row` of each payload as its :data:`~aegis.model.ROW_FIELDS` (``None`` for a
    payload left to the model), for :meth:`~aegis.model.BatchColumns.of_fields`.

    A JSON document's UETR is read as a plain string and all are checked at once: when spelt as the
    model writes it (the common case), the string is the column's value as it stands; a document with
    any other spelling is read again as :func:`fast_row` reads it (parsing the UETR), so both accept
    the same documents with the same values.
    """
    rows = [_fields(p, _DECODE_UNCHECKED) for p in payloads]
    try:
        uetrs = list(map(_FIRST, rows))
    except TypeError:  # a payload left to the model (None)
        taken = [i for i, row in enumerate(rows) if row is not None]
        misspelt = [taken[j] for j in _misspelt([rows[i][0] for i in taken])] if taken else []
    else:
        misspelt = _misspelt(uetrs) if uetrs else []
    for i in misspelt:
        rows[i] = _fields(payloads[i], _DECODE)
    _TIMES_KEPT.review(len(rows))
    _AMOUNTS_KEPT.review(len(rows))
    return rows
