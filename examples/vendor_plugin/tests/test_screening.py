"""Looking accounts up in a denylist."""

from __future__ import annotations

from pathlib import Path

from acme_denylist.denylist import parse_denylist
from acme_denylist.screening import listed

from aegis.testing.samples import german_iban


def test_only_exact_accounts_are_listed():
    rows = "".join(f"{a},mule,2025-11-03,ops\n" for a in ("ACC-2", "ACC-5", german_iban(9)))
    denylist = parse_denylist(("account,reason,listed_at,listed_by\n" + rows).encode(), Path("list.csv"))
    queries = ["ACC-1", "ACC-2", "ACC-20", "ACC-", "ACC-5", "ZZZ-9", german_iban(9), german_iban(8), "acc-2"]
    assert listed(queries, denylist).tolist() == [False, True, False, False, True, False, True, False, False]
