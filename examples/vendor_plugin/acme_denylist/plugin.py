"""The ``denylist`` scoring plugin: the class Aegis loads from the ``aegis.scoring`` entry point."""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from acme_denylist.denylist import Denylist, DenylistError, read_denylist
from acme_denylist.screening import FACTOR, screen
from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import AccountIndex, Batch, ScoreResult, Transaction

PLUGIN = "denylist"
VERSION_KEY = "denylist_version"

#: One state of the list file: (inode, size, mtime, ctime) when readable, else why not. ctime also
#: changes with permissions, so fixing an unreadable file's mode is noticed.
FileState = tuple[int, int, int, int] | str


def _file_state(path: Path) -> FileState:
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class DenylistScorer:
    """Scores ``DENYLIST`` = 1.0 for payments whose debtor and/or creditor account is on ACME's denylist.

    A listed account hard-blocks the payment (``hard_block: true``, the default) or only adds
    the factor's weighted score to the risk. Replacing the CSV swaps the list between batches;
    a bad file is refused and the previous list stays active.
    """

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")

        accounts_csv: Path = Field(description="CSV of listed accounts with the header "
                                               "account,reason,listed_at,listed_by (relative to the working "
                                               "directory); replace it atomically to reload")
        match: Literal["debtor", "creditor", "both"] = Field(
            "both", description="which side of a payment is checked against the list")
        hard_block: bool = Field(True, description="block a payment with a listed account whatever its weighted "
                                                   "risk; false: DENYLIST only adds its weighted score")

    def __init__(self, config: Config):
        self.config = config
        self._denylist: Denylist | None = None
        self._observed: FileState | None = None
        self._log = logging.getLogger("aegis.scoring.denylist")

    @property
    def denylist(self) -> Denylist:
        """The active list (each batch reads it once, so a reload never splits a batch)."""
        if self._denylist is None:
            raise RuntimeError(f"{PLUGIN}: scored before aegis_startup loaded {self.config.accounts_csv}")
        return self._denylist

    # -- lifecycle ---------------------------------------------------------

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        self._log = context.log.getChild("scoring.denylist")
        path = self.config.accounts_csv
        self._observed = _file_state(path)  # before reading: a change while reading is seen next time
        self._denylist = read_denylist(path)
        self._log.info("denylist %s: %d accounts, %s, match=%s, hard_block=%s", path, len(self._denylist),
                       self._denylist.version, self.config.match, self.config.hard_block)

    @hookimpl
    def aegis_reload(self, context: Context) -> ReloadReport | None:
        path = self.config.accounts_csv
        state = _file_state(path)
        if state == self._observed:
            return None
        self._observed = state
        old = self._denylist
        old_version = old.version if old is not None else None
        if isinstance(state, str):
            return ReloadReport(plugin=PLUGIN, artefact=str(path), ok=False, old_version=old_version, error=state)
        try:
            new = read_denylist(path)
        except DenylistError as exc:
            return ReloadReport(plugin=PLUGIN, artefact=str(path), ok=False, old_version=old_version,
                                error=str(exc))
        if new.version == old_version:
            return None  # touched or rewritten with the same bytes
        self._denylist = new
        return ReloadReport(plugin=PLUGIN, artefact=str(path), ok=True, old_version=old_version,
                            new_version=new.version, summary=f"{len(new)} accounts")

    @hookimpl
    def aegis_self_test(self, context: Context) -> list[SelfTestResult]:
        try:
            denylist = self.denylist
        except RuntimeError as exc:
            return [SelfTestResult(plugin=PLUGIN, check="denylist loaded", ok=False, detail=str(exc))]
        results = [SelfTestResult(plugin=PLUGIN, check="denylist loaded", ok=True,
                                  detail=f"{len(denylist)} accounts from {denylist.source}, {denylist.version}")]
        check = f"listed account is matched on side {self.config.match!r}"
        try:
            ok, detail = self._match_round_trip(denylist)
        except Exception as exc:  # a self-test reports every failure instead of raising
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results.append(SelfTestResult(plugin=PLUGIN, check=check, ok=ok, detail=detail))
        return results

    # -- scoring -----------------------------------------------------------

    @hookimpl
    def aegis_scoring_score(self, batch: Batch) -> ScoreResult:
        denylist = self.denylist
        factor = screen(batch, denylist, self.config.match, self.config.hard_block)
        return ScoreResult(factors={FACTOR: factor}, versions={VERSION_KEY: denylist.version})

    def _match_round_trip(self, denylist: Denylist) -> tuple[bool, str]:
        """Score two synthetic payments, listed → unlisted and unlisted → listed, and compare."""
        listed = str(denylist.accounts[0])
        unlisted = next(a for a in (f"ACME-SELF-TEST-{i}" for i in range(len(denylist) + 1))
                        if a not in denylist.entries)
        txs = [self._synthetic(listed, unlisted), self._synthetic(unlisted, listed)]
        factor = screen(Batch.from_transactions(txs, AccountIndex()), denylist, self.config.match,
                        self.config.hard_block)
        expected = np.array([self.config.match != "creditor", self.config.match != "debtor"], dtype=np.float64)
        blocks_ok = (np.array_equal(factor.hard_block, expected.astype(bool)) if self.config.hard_block
                     else factor.hard_block is None)
        if np.array_equal(factor.scores, expected) and blocks_ok:
            return True, f"{listed} scored {factor.scores.tolist()} as debtor/creditor"
        return False, (f"{listed} scored {factor.scores.tolist()} as debtor/creditor, expected "
                       f"{expected.tolist()}; hard_block={factor.hard_block}")

    @staticmethod
    def _synthetic(debtor: str, creditor: str) -> Transaction:
        return Transaction.model_validate({
            "uetr": str(uuid.uuid4()), "created_at": datetime.now(UTC), "amount": "1.00", "currency": "EUR",
            "debtor": {"account": debtor}, "creditor": {"account": creditor}, "channel": "self-test",
        })
