"""Screening names against the index: queries in, best list match per query out.

A query's tokens are looked up through :class:`TokenMatcher`; variants of the query handle joined
and split tokens (``abdul rahman`` / ``abdulrahman``, ``jin ping`` / ``jinping``). All variants of
all queries of a batch are scored in one call of the numba kernel; the best names per query are
then grouped by list entry, moved by date-of-birth and country evidence, filtered by the analysts'
dispositions, and the best remaining entry is the query's match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aegis_scoring_sanctions.dispositions import Dispositions
from aegis_scoring_sanctions.entries import ENTITY, ListEntry
from aegis_scoring_sanctions.evidence import EvidenceWeights, adjust, parse_query_dob
from aegis_scoring_sanctions.index import KIND_CODES, MAX_TOKENS, NameIndex
from aegis_scoring_sanctions.kernels import score_queries
from aegis_scoring_sanctions.normalize import NormalizedName, normalize
from aegis_scoring_sanctions.token_match import TokenMatcher


@dataclass(frozen=True, slots=True)
class Query:
    """A name to screen, with what else is known about the party.

    ``person`` says the party is an individual (then vessels and aircraft are not candidates);
    ``account`` is used only to find dispositions.
    """

    name: str
    date_of_birth: str | None = None
    country: str | None = None
    person: bool = False
    account: str | None = None


@dataclass(frozen=True)
class Match:
    """A list entry a query matched, through which of its names, and how strongly."""

    entry: ListEntry
    matched_name: str
    name_score: float
    score: float
    evidence: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for an analyst: list, entry id, matched name, score, evidence."""
        text = f"{self.entry.list_name} {self.entry.entry_id} {self.matched_name!r} score {self.score:.3f}"
        if self.evidence:
            text += f" (name {self.name_score:.3f}; {'; '.join(self.evidence)})"
        return text


@dataclass(slots=True)
class ScreenResult:
    """What screening one query found: the best match (if any reached ``floor``) and the runners-up."""

    query: Query
    matches: tuple[Match, ...] = ()
    suppressed: tuple[str, ...] = field(default=())  # dispositions that removed a match, described

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def score(self) -> float:
        return self.matches[0].score if self.matches else 0.0


@dataclass(frozen=True)
class MatchSettings:
    """Tuning of the matcher (the plugin's ``matching`` config section)."""

    token_similarity: float = 0.72
    phonetic_similarity: float = 0.88
    weak_alias_penalty: float = 0.08
    person_entity_penalty: float = 0.15  # a known individual matched to an organisation's name
    max_postings: int = 1500
    name_extra_factor: float = 0.6  # weight of a listed name's unmatched tokens, relative to the query's
    floor: float = 0.6  # name scores below this are not reported
    top_k: int = 8
    evidence: EvidenceWeights = field(default_factory=EvidenceWeights)


class Screener:
    """Screens queries against one :class:`NameIndex` (one per list version)."""

    def __init__(self, index: NameIndex, settings: MatchSettings | None = None,
                 dispositions: Dispositions | None = None, cache_size: int = 200_000):
        self.index = index
        self.cache_size = cache_size
        self._cache: dict[tuple, tuple[str, tuple[Match, ...]]] = {}
        self.settings = settings or MatchSettings()
        self.dispositions = dispositions or Dispositions.empty()
        self.tokens = TokenMatcher(index, self.settings.token_similarity, self.settings.phonetic_similarity)
        self._vhead = np.full(len(index.tokens) + 1, -1, dtype=np.int32)
        self._seen = np.zeros(index.n_names + 1, dtype=np.int32)
        self._skip = (KIND_CODES["vessel"], KIND_CODES["aircraft"])

    def with_dispositions(self, dispositions: Dispositions) -> Screener:
        """A screener on the same index (and token cache) with other dispositions."""
        other = Screener.__new__(Screener)
        other.__dict__.update(self.__dict__)
        other.dispositions = dispositions
        return other

    # -- query variants -------------------------------------------------------

    def _variants(self, name: NormalizedName) -> list[tuple[str, ...]]:
        """The query's tokens, plus variants with adjacent tokens joined or a token split in two.

        Two tokens are joined when the list holds the joined token (exactly, or closely when one
        of them is not a list token itself); a token no list holds is split when both parts are
        close to list tokens.
        """
        tokens = name.tokens[:MAX_TOKENS]
        variants = [tokens]
        if not tokens:
            return variants
        vocab = self.index.vocab
        matcher = self.tokens
        abjad = name.abjad
        known = [t in vocab for t in tokens]
        for i in range(len(tokens) - 1):
            joined = tokens[i] + tokens[i + 1]
            if joined in vocab or (not (known[i] and known[i + 1]) and len(joined) >= 6
                                   and matcher.near(joined) and matcher.best(joined, abjad) >= 0.8):
                variants.append((*tokens[:i], joined, *tokens[i + 2:]))
        for i, tok in enumerate(tokens):
            if len(tok) < 4:
                continue
            parts = None
            for k in range(2, len(tok) - 1):
                if tok[:k] in vocab and tok[k:] in vocab:
                    parts = (tok[:k], tok[k:])
                    break
            if parts is None and not known[i] and len(tok) >= 6 and matcher.best(tok, abjad) < 0.9:
                parts = matcher.split(tok, abjad)
            if parts is not None:
                variants.append((*tokens[:i], *parts, *tokens[i + 1:]))
        return variants

    # -- screening --------------------------------------------------------------

    def screen(self, queries: Sequence[Query]) -> list[ScreenResult]:
        """Screen ``queries``: each distinct (name, date of birth, country, kind) is matched once.

        Matches are remembered (up to ``cache_size`` distinct queries, then the memory starts
        afresh); dispositions are applied after, so a changed dispositions file takes effect at once.
        """
        cache = self._cache
        keys = [(q.name, q.date_of_birth, q.country, q.person) for q in queries]
        todo: dict[tuple, Query] = {}
        for key, query in zip(keys, queries, strict=True):
            if key not in cache and key not in todo:
                todo[key] = query
        if todo and len(cache) + len(todo) > self.cache_size:
            cache.clear()  # start afresh; this call's repeats are screened again
            todo = dict(zip(keys, queries, strict=True))
        if todo:
            for key, found in zip(todo, self._screen_unique(list(todo.values())), strict=True):
                cache[key] = found
        out = []
        for key, query in zip(keys, queries, strict=True):
            name_key, matches = cache[key]
            out.append(self._disposed(query, name_key, matches))
        return out

    def _disposed(self, query: Query, name_key: str, matches: tuple[Match, ...]) -> ScreenResult:
        if not matches or not self.dispositions.records:
            return ScreenResult(query, matches)
        kept, suppressed = [], []
        for m in matches:
            decision = self.dispositions.find(name_key, query.account, m.entry)
            if decision is None:
                kept.append(m)
            else:
                suppressed.append(f"{m.entry.list_name} {m.entry.entry_id} {m.matched_name!r} "
                                  f"score {m.score:.3f} cleared by {decision.describe()}")
        return ScreenResult(query, tuple(kept), tuple(suppressed))

    def _screen_unique(self, queries: list[Query]) -> list[tuple[str, tuple[Match, ...]]]:
        index = self.index
        hits_of = self.tokens.hits
        weight_of = index.weight
        qv_ptr = [0]
        qv_owner: list[int] = []
        qv_skip: list[bool] = []
        qt_weight: list[float] = []
        qt_first: list[int] = []
        qt_len: list[int] = []
        qt_hit_ptr = [0]
        hit_tok: list[int] = []
        hit_sim: list[float] = []
        names: list[NormalizedName] = []
        for qi, query in enumerate(queries):
            name = normalize(query.name) if query.name else NormalizedName(())
            names.append(name)
            for variant in self._variants(name):
                for tok in variant:
                    tids, sims = hits_of(tok, name.abjad)
                    hit_tok.extend(tids)
                    hit_sim.extend(sims)
                    qt_hit_ptr.append(len(hit_tok))
                    qt_weight.append(weight_of(tok))
                    qt_first.append(ord(tok[0]))
                    qt_len.append(len(tok))
                qv_ptr.append(len(qt_weight))
                qv_owner.append(qi)
                qv_skip.append(query.person)
        s = self.settings
        out_name, out_score = score_queries(
            np.asarray(qv_ptr, dtype=np.int64), np.asarray(qt_weight, dtype=np.float64),
            np.asarray(qt_first, dtype=np.int32), np.asarray(qt_len, dtype=np.int32),
            np.asarray(qt_hit_ptr, dtype=np.int64), np.asarray(hit_tok, dtype=np.int32),
            np.asarray(hit_sim, dtype=np.float64), np.asarray(qv_skip, dtype=np.bool_),
            index.name_ptr, index.name_tok, index.name_kind, index.name_weak, index.post_ptr, index.post_name,
            index.token_weight, index.token_first, index.token_len, self._skip[0], self._skip[1],
            s.weak_alias_penalty, s.name_extra_factor, s.max_postings, s.floor - s.evidence.dob_exact_bonus
            - s.evidence.country_match_bonus, s.top_k, self._vhead, self._seen)
        best_names: list[dict[int, tuple[float, int]]] = [{} for _ in queries]
        for v, owner in enumerate(qv_owner):
            per_entry = best_names[owner]
            for k in range(out_name.shape[1]):
                n = int(out_name[v, k])
                if n < 0:
                    continue
                score = float(out_score[v, k])
                e = int(index.name_entry[n])
                if e not in per_entry or per_entry[e][0] < score:
                    per_entry[e] = (score, n)
        return [self._result(query, names[i], best_names[i]) for i, query in enumerate(queries)]

    def _result(self, query: Query, name: NormalizedName,
                per_entry: dict[int, tuple[float, int]]) -> tuple[str, tuple[Match, ...]]:
        """The query's matches, best first, after evidence (dispositions come later)."""
        if not per_entry:
            return name.key, ()
        index = self.index
        dob = parse_query_dob(query.date_of_birth)
        country = query.country.upper() if query.country else None
        settings = self.settings
        matches = []
        for e, (name_score, n) in per_entry.items():
            entry = index.entries[e]
            score, notes = adjust(name_score, entry, dob, country, settings.evidence)
            if query.person and entry.kind == ENTITY:
                score = max(score - settings.person_entity_penalty, 0.0)
                notes = (*notes, "an individual against an organisation's name")
            if score >= settings.floor:
                matches.append(Match(entry, index.name_text(n), round(name_score, 4), round(score, 4), notes))
        matches.sort(key=lambda m: (-m.score, m.entry.list_name, m.entry.entry_id))
        return name.key, tuple(matches[:settings.top_k])
