"""Valid, varied transactions for tests and examples (deterministic for a seed)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from stdnum import iban

_COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "GB", "US", "CH", "IR", "KP", "AE", "PA"]
_CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
_NAMES = ["Anna Schmidt", "Jean Dupont", "Acme Trading GmbH", "Maria Rossi", "Li Wei", "Olena Kovalenko",
          "Northwind Ltd", "Pedro Alvarez", "Fatima Al-Sayed", "Kenji Tanaka"]
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def german_iban(account_number: int) -> str:
    """A checksum-valid German IBAN for an account number (bank code 37040044)."""
    bban = f"37040044{account_number:010d}"
    return f"DE{iban.calc_check_digits('DE00' + bban)}{bban}"


def transaction(rng: random.Random, when: datetime, debtor: int, creditor: int, **overrides: Any) -> dict:
    tx = {
        "uetr": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "created_at": when.isoformat(),
        "amount": f"{rng.lognormvariate(5, 1.2):.2f}",
        "currency": rng.choice(_CURRENCIES),
        "debtor": {"name": _NAMES[debtor % len(_NAMES)], "account": german_iban(debtor),
                   "bic": "COBADEFFXXX", "country": "DE"},
        "creditor": {"name": _NAMES[creditor % len(_NAMES)], "account": f"ACC-{creditor:06d}",
                     "country": rng.choice(_COUNTRIES)},
    }
    tx.update(overrides)
    return tx


def transactions(n: int, seed: int = 7, accounts: int = 50, start: datetime = EPOCH) -> list[dict]:
    """``n`` valid transactions between ``accounts`` accounts, a few seconds apart."""
    rng = random.Random(seed)
    out = []
    when = start
    for _ in range(n):
        when += timedelta(seconds=rng.randint(1, 30))
        out.append(transaction(rng, when, rng.randrange(accounts), rng.randrange(accounts)))
    return out
