"""The fast path of transaction decoding: well-formed JSON straight to checked values.

msgspec decodes each payload into a plain struct and every rule of
:class:`~aegis.model.Transaction` is checked in a few comparisons, without building pydantic
models. The fast path only accepts what it can show the model accepts *and* normalises to the same
values: anything else (surrounding whitespace, an amount in exponent notation, an unusual date or
UUID spelling, any error at all) is left to pydantic, which decides and words the reason. Both
paths give the same columns and byte-identical canonical JSON (a differential test checks it on
generated input); the fast one is several times cheaper.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from aegis.model import _BIC, ISO_COUNTRIES, ISO_CURRENCIES, TransactionRow, _account

# ASCII only: ``\d`` would also match other scripts' digits, which the model's parsers refuse.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
                   r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")
#: at most 16 integer and 4 decimal digits: within the model's 20 digits / 4 places, printed as given
_AMOUNT = re.compile(r"(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,4})?")
_BALANCE = re.compile(r"-?(?:0|[1-9][0-9]{0,27})(?:\.[0-9]{1,6})?")
_PURPOSE = re.compile(r"[A-Z0-9]{1,4}")
_BIRTH = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")
_MAX_AMOUNT = 10**16


class FastParty(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """:class:`~aegis.model.Party` as msgspec decodes it (fields in the model's order)."""

    name: str | None = None
    account: str
    bic: str | None = None
    country: str | None = None
    date_of_birth: str | None = None


class FastTransaction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """:class:`~aegis.model.Transaction` as msgspec decodes it (fields in the model's order)."""

    uetr: str
    created_at: str
    amount: str | int
    currency: str
    debtor: FastParty
    creditor: FastParty
    purpose: str | None = None
    channel: str | None = None
    remittance_info: str | None = None
    debtor_balance_before: str | int | None = None
    creditor_balance_before: str | int | None = None


_DECODER = msgspec.json.Decoder(FastTransaction)
_ENCODE = msgspec.json.Encoder().encode


def _bare(value: str) -> bool:
    """No surrounding whitespace (the model strips it; the fast path leaves such values to it)."""
    return value.strip() == value


def _party(p: FastParty) -> bool:
    """Check one party in place (the account becomes its compact form); False → not fast."""
    account = p.account
    if not (0 < len(account) <= 64 and _bare(account)):
        return False
    try:
        p.account = _account(account)
    except ValueError:
        return False
    name, bic, country, born = p.name, p.bic, p.country, p.date_of_birth
    return ((name is None or (len(name) <= 140 and _bare(name)))
            and (bic is None or (_BIC.fullmatch(bic) is not None and bic[4:6] in ISO_COUNTRIES))
            and (country is None or country in ISO_COUNTRIES)
            and (born is None or _BIRTH.fullmatch(born) is not None))


def _decimal(value: str | int | None, pattern: re.Pattern) -> Decimal | bool | None:
    """The value as a Decimal (``None`` stays ``None``); False when it is not a plain spelling."""
    if value is None:
        return None
    if isinstance(value, int):
        return Decimal(value) if not isinstance(value, bool) else False
    return Decimal(value) if pattern.fullmatch(value) else False


def _balance(value: str | int | None) -> Decimal | bool | None:
    return _decimal(value, _BALANCE)


def _timestamp(value: str) -> datetime | None:
    if _TIME.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _canonical_time(when: datetime) -> str:
    text = when.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text  # isoformat never writes -00:00


def fast_row(payload: Any) -> TransactionRow | None:
    """The row of a JSON document or mapping that is a well-formed transaction in plain spelling,
    else ``None`` (the caller validates it with the model, which accepts or rejects with a reason)."""
    try:
        if isinstance(payload, (bytes, str)):
            t = _DECODER.decode(payload)
        else:
            t = msgspec.convert(payload, FastTransaction)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    uetr, amount = t.uetr, t.amount
    if _UUID.fullmatch(uetr) is None or t.currency not in ISO_CURRENCIES:
        return None
    when = _timestamp(t.created_at)
    if when is None:
        return None
    value = _decimal(amount, _AMOUNT)
    if value is False or value is None or not 0 < value < _MAX_AMOUNT:
        return None
    debtor_balance, creditor_balance = _balance(t.debtor_balance_before), _balance(t.creditor_balance_before)
    if debtor_balance is False or creditor_balance is False:
        return None
    purpose, channel, info = t.purpose, t.channel, t.remittance_info
    if not ((purpose is None or _PURPOSE.fullmatch(purpose) is not None)
            and (channel is None or (len(channel) <= 32 and _bare(channel)))
            and (info is None or (len(info) <= 140 and _bare(info)))
            and _party(t.debtor) and _party(t.creditor)):
        return None
    t.uetr = uetr = uetr.lower()
    t.created_at = _canonical_time(when)
    if isinstance(amount, int):
        t.amount = str(amount)
    if isinstance(t.debtor_balance_before, int):
        t.debtor_balance_before = str(t.debtor_balance_before)
    if isinstance(t.creditor_balance_before, int):
        t.creditor_balance_before = str(t.creditor_balance_before)
    return TransactionRow(uetr, when, value, t.currency, t.debtor, t.creditor, t.channel, debtor_balance,
                          _ENCODE(t))
