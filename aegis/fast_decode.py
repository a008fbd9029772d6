"""The fast path of transaction decoding: well-formed JSON straight to checked values.

msgspec decodes each payload into a plain struct (parsing the UETR on the way) and every rule of
:class:`~aegis.model.Transaction` is checked in a few comparisons, without building pydantic
models; parties repeat, so each distinct party (as raw JSON) is checked once and then looked up.
The fast path only accepts what it can show the model accepts *and* normalises to the same
values: anything else (surrounding whitespace, an amount in an unusual spelling, a time with more
than six fractional digits, any error at all) is left to pydantic, which decides and words the
reason. Both paths give the same columns and byte-identical canonical JSON (a differential test
checks it on generated input); the fast one is several times cheaper.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from aegis.model import _BIC, EARLIEST, ISO_COUNTRIES, ISO_CURRENCIES, LATEST, TransactionRow, _account

# ASCII only: ``\d`` would also match other scripts' digits, which the model's parsers refuse.
_BIRTH = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?").fullmatch
_PURPOSE = re.compile(r"[A-Z0-9]{1,4}").fullmatch
_BIC_MATCH = _BIC.fullmatch
#: the amount's bounds (``gt=0``; 20 digits of which 4 places leave 16 before the point) and unit
_ZERO, _MAX_AMOUNT, _TICK = Decimal(0), Decimal(10**16), Decimal("0.0001")

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
    :func:`fast_row` puts in the parsed time, an int amount and the balances as ``Decimal`` and the
    checked parties: msgspec writes each as the model does.
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


_DECODE = msgspec.json.Decoder(_JsonTransaction).decode
_DECODE_PARTY = msgspec.json.Decoder(FastParty).decode
_CONVERT = msgspec.convert
_ENCODE = msgspec.json.Encoder().encode
#: checked parties by their raw JSON (bounded: cleared when full)
_PARTIES: dict[bytes, FastParty] = {}
_KNOWN_PARTY = _PARTIES.get
_MAX_PARTIES = 1 << 16


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


def _party(raw: bytes) -> FastParty:
    """Check a party not seen before and remember it."""
    party = _checked(_DECODE_PARTY(raw))
    if len(_PARTIES) >= _MAX_PARTIES:
        _PARTIES.clear()
    _PARTIES[raw] = party
    return party


def _balance(value: str | int | None) -> Decimal | None:
    """The model parses a balance with ``Decimal`` too and only refuses NaN and infinities."""
    if value is None:
        return None
    balance = Decimal(value)
    if not balance.is_finite():
        raise ValueError("balance left to the model")
    return balance


def fast_row(payload: Any) -> TransactionRow | None:
    """The row of a JSON document or mapping that is a well-formed transaction in plain spelling,
    else ``None`` (the caller validates it with the model, which accepts or rejects with a reason).

    msgspec's RFC 3339 parser reads every time it takes as the model does, except that it rounds
    fractional seconds beyond the sixth digit where the model truncates: those are left to the
    model. The model reads amounts and balances with ``Decimal`` too, so the values agree; a string
    amount must be spelt as the model writes it back, and its bounds and places are checked on the
    value.
    """
    try:  # msgspec's errors are ValueErrors, as are a bad IBAN or balance; a NaN amount raises on comparison
        if isinstance(payload, (bytes, str)):
            t = _DECODE(payload)
            d, c = bytes(t.debtor), bytes(t.creditor)
            t.debtor = debtor = _KNOWN_PARTY(d) or _party(d)
            t.creditor = creditor = _KNOWN_PARTY(c) or _party(c)
        else:
            t = _CONVERT(payload, FastTransaction)
            t.debtor = debtor = _checked(t.debtor)
            t.creditor = creditor = _checked(t.creditor)
        created_at = t.created_at
        t.created_at = when = _CONVERT(created_at, datetime)
        amount = t.amount
        value = Decimal(amount)
        if amount.__class__ is int:
            t.amount = value
        elif str(value) != amount:
            return None  # spelt otherwise than the model writes it (exponent, leading zeros, spaces, ...)
        purpose, channel, info = t.purpose, t.channel, t.remittance_info
        if not (when.tzinfo is not None and EARLIEST <= when < LATEST
                # msgspec took 19 fixed characters: 7 digits next are a 7th fractional digit (or a
                # "+hhmm" offset, left to the model as well)
                and not created_at[20:27].isdigit()
                and _ZERO < value < _MAX_AMOUNT and not value % _TICK
                and (purpose is None or _PURPOSE(purpose) is not None)
                and (channel is None or (len(channel) <= 32 and channel.strip() == channel))
                and (info is None or (len(info) <= 140 and info.strip() == info))):
            return None
        balance, other = t.debtor_balance_before, t.creditor_balance_before
        if balance is not None or other is not None:
            t.debtor_balance_before = balance = _balance(balance)
            t.creditor_balance_before = _balance(other)
    except (ValueError, ArithmeticError):
        return None
    canonical = _ENCODE(t)
    # the UETR as the model writes it: the first field, always present, after '{"uetr":"'
    return TransactionRow(canonical[9:45].decode(), when, value, t.currency, debtor, creditor, channel, balance,
                          canonical)
