"""Matching a batch's debtor and creditor accounts against a denylist, as one vectorised step per side.

``Batch.debtor_account`` and ``Batch.creditor_account`` hold account ids interned by the
kernel, and the kernel's id table is not handed to plugins. So each batch's account
strings are gathered once per side into a numpy array and looked up in the list's sorted
array with :func:`numpy.searchsorted`.
Only the (rare) hits are visited one by one, to write their explanation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from acme_denylist.denylist import Denylist
from aegis.model import Batch, FactorScores

Side = Literal["debtor", "creditor", "both"]
FACTOR = "DENYLIST"
REASON_CODE = "RC_DENYLISTED_ACCOUNT"


def listed(accounts: list[str], denylist: Denylist) -> np.ndarray:
    """Boolean mask: which of ``accounts`` are on ``denylist``.

    A binary search in the list's sorted array: unlike ``np.isin``, which sorts the list
    together with the batch on every call, this costs O(n log m) per batch.
    """
    column = np.array(accounts, dtype=str)
    sorted_accounts = denylist.accounts
    at = np.searchsorted(sorted_accounts, column)
    at[at == len(sorted_accounts)] = 0  # past the last entry: compare with any entry, it cannot be equal
    return sorted_accounts[at] == column


def screen(batch: Batch, denylist: Denylist, match: Side, hard_block: bool) -> FactorScores:
    """The ``DENYLIST`` factor of ``batch``: 1.0 where a checked side's account is listed, else 0."""
    n = batch.n
    no_hits = np.zeros(n, dtype=bool)
    debtors = [t.debtor.account for t in batch.transactions] if match != "creditor" else []
    creditors = [t.creditor.account for t in batch.transactions] if match != "debtor" else []
    debtor_hit = listed(debtors, denylist) if debtors else no_hits
    creditor_hit = listed(creditors, denylist) if creditors else no_hits
    hit = debtor_hit | creditor_hit
    details: list[str | None] = [None] * n
    for i in np.flatnonzero(hit).tolist():
        parts = []
        if debtor_hit[i]:
            parts.append(_explain("debtor", debtors[i], denylist))
        if creditor_hit[i]:
            parts.append(_explain("creditor", creditors[i], denylist))
        details[i] = "; ".join(parts)
    return FactorScores(scores=hit.astype(np.float64), reason_code=REASON_CODE, details=details,
                        hard_block=hit if hard_block else None)


def _explain(side: str, account: str, denylist: Denylist) -> str:
    entry = denylist.entries[account]
    return (f"{side} account {account} is denylisted: {entry.reason} "
            f"(listed {entry.listed_at} by {entry.listed_by}, list {denylist.version})")
