"""The active screening state (lists, index, dispositions) and batch scoring against it.

Everything one batch needs sits in one immutable :class:`ActiveLists`; a reload builds a new one
and swaps the reference, so a batch is screened against the old or the new lists, never a mix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from aegis.model import Batch, FactorScores, Party, ScoreResult
from aegis_scoring_sanctions.config import SanctionsConfig
from aegis_scoring_sanctions.dispositions import Dispositions
from aegis_scoring_sanctions.entries import SanctionsList
from aegis_scoring_sanctions.explain import party_detail
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.matcher import Query, Screener, ScreenResult
from aegis_scoring_sanctions.sources import load_lists

FACTOR = "SANCTIONS"
RC_SANCTIONS_MATCH = "RC_SANCTIONS_MATCH"


@dataclass(frozen=True)
class ActiveLists:
    """One version of everything screening uses."""

    lists: tuple[SanctionsList, ...]
    index: NameIndex
    screener: Screener
    dispositions: Dispositions
    load_seconds: float

    @property
    def version(self) -> str:
        return self.index.version

    @property
    def versions(self) -> dict[str, str]:
        out = {"sanctions_list_version": self.version}
        if self.dispositions.path is not None:
            out["sanctions_dispositions_version"] = self.dispositions.version
        return out

    def summary(self) -> str:
        parts = [f"{lst.version} ({len(lst):,} entries)" for lst in self.lists]
        text = ", ".join(parts) + f"; {self.index.n_names:,} names indexed in {self.index.build_seconds:.2f} s"
        if self.dispositions.path is not None:
            text += f"; {len(self.dispositions)} dispositions"
        return text


def load_active(config: SanctionsConfig, dispositions: Dispositions | None = None,
                lists: list[SanctionsList] | None = None) -> ActiveLists:
    """Read the configured lists (unless given) and dispositions, and build the index."""
    start = time.perf_counter()
    if lists is None:
        lists = load_lists([c.source() for c in config.lists])
    if dispositions is None:
        dispositions = Dispositions.load(config.dispositions) if config.dispositions else Dispositions.empty()
    index = NameIndex.build(lists)
    screener = Screener(index, config.settings(), dispositions, cache_size=config.cache_size)
    Screener(index, config.settings(), cache_size=0).screen([Query("warm up")])  # compile or load the kernel
    return ActiveLists(tuple(lists), index, screener, dispositions, time.perf_counter() - start)


def party_query(party: Party) -> Query:
    """A payment party as a screening query: a party with a date of birth is an individual."""
    return Query(party.name or "", party.date_of_birth, party.country, person=party.date_of_birth is not None,
                 account=party.account)


class SanctionsEngine:
    """Scores batches against the active lists; :meth:`swap` replaces them atomically."""

    def __init__(self, config: SanctionsConfig, active: ActiveLists):
        self.config = config
        self.active = active

    def swap(self, active: ActiveLists) -> None:
        self.active = active

    def factor_score(self, score: np.ndarray) -> np.ndarray:
        """Match scores → SANCTIONS factor scores: 0 below review_at, the review band, 1 from block_at."""
        cfg = self.config
        low, high = cfg.review_factor_scores
        band = low + (score - cfg.review_at) / (cfg.block_at - cfg.review_at) * (high - low)
        return np.where(score >= cfg.block_at, 1.0, np.where(score >= cfg.review_at, band, 0.0))

    def score(self, batch: Batch) -> ScoreResult:
        active = self.active  # one version for the whole batch
        cfg = self.config
        parties = cfg.parties
        n = batch.n
        best = np.zeros(n, dtype=np.float64)
        results: dict[str, list[ScreenResult]] = {}
        for role in parties:
            queries = [party_query(getattr(tx, role)) for tx in batch.transactions]
            found = active.screener.screen(queries)
            results[role] = found
            best = np.maximum(best, np.fromiter((r.score for r in found), dtype=np.float64, count=n))
        details: list[str | None] | None = None
        if cfg.details:
            details = [None] * n
            for i in range(n):
                parts = [text for role in parties
                         if (text := party_detail(role, results[role][i], cfg.review_at)) is not None]
                if parts:
                    details[i] = " | ".join(parts)
        factor = FactorScores(scores=self.factor_score(best), reason_code=RC_SANCTIONS_MATCH, details=details,
                              hard_block=best >= cfg.block_at)
        return ScoreResult(factors={FACTOR: factor}, versions=active.versions)
