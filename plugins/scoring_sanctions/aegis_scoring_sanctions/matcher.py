"""Screening names against the index: queries in, best list match per query out.

A query's tokens are looked up through :class:`TokenMatcher`; variants of the query handle joined
and split tokens (``abdul rahman`` / ``abdulrahman``, ``jin ping`` / ``jinping``). Work is done per
batch and per distinct token: the batch's tokens (then the joined tokens and split parts the
variants ask about) are looked up together, and all variants of all queries are scored in one call
of the numba kernel. The best names per query are then grouped by list entry in numpy (entries that
cannot reach the floor even with the query's best evidence are dropped there), moved by
date-of-birth and country evidence, filtered by the analysts' dispositions, and the best remaining
entry is the query's match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple

import numpy as np

from aegis_scoring_sanctions.dispositions import Dispositions
from aegis_scoring_sanctions.entries import ENTITY, ListEntry
from aegis_scoring_sanctions.evidence import EvidenceWeights, adjust, parse_query_dob
from aegis_scoring_sanctions.index import KIND_CODES, MAX_TOKENS, NameIndex
from aegis_scoring_sanctions.kernels import score_queries
from aegis_scoring_sanctions.normalize import NormalizedName, normalize
from aegis_scoring_sanctions.token_match import TokenKey, TokenMatcher


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


class _QueryTokens(NamedTuple):
    """Per token of each query variant: evidence weight, first letter's code, length."""

    weight: np.ndarray
    first: np.ndarray
    length: np.ndarray


class Screener:
    """Screens queries against one :class:`NameIndex` (one per list version)."""

    def __init__(self, index: NameIndex, settings: MatchSettings | None = None,
                 dispositions: Dispositions | None = None, cache_size: int = 200_000):
        self.index = index
        self.cache_size = cache_size
        self._cache: dict[tuple, tuple[NormalizedName, tuple[Match, ...]]] = {}
        self.settings = settings or MatchSettings()
        self.dispositions = dispositions or Dispositions.empty()
        self.tokens = TokenMatcher(index, self.settings.token_similarity, self.settings.phonetic_similarity)
        self._vhead = np.full(len(index.tokens) + 1, -1, dtype=np.int32)
        self._seen = np.zeros(index.n_names + 1, dtype=np.int32)
        self._hit_mask = np.zeros(index.n_names + 1, dtype=np.int64)
        owners = np.repeat(np.arange(index.n_names), np.diff(index.name_ptr))
        self._name_weight = np.bincount(owners, weights=index.token_weight[index.name_tok], minlength=index.n_names)
        self._name_initial = np.bincount(owners, weights=index.token_len[index.name_tok] == 1,
                                         minlength=index.n_names) > 0
        # Postings restricted to names holding an initial (the scoring kernel walks them for tokens
        # whose full postings it skips).
        with_initial = self._name_initial[index.post_name]
        posting_token = np.repeat(np.arange(len(index.tokens)), np.diff(index.post_ptr))
        self._init_ptr = np.zeros(len(index.tokens) + 1, dtype=np.int64)
        np.cumsum(np.bincount(posting_token[with_initial], minlength=len(index.tokens)), out=self._init_ptr[1:])
        self._init_name = index.post_name[with_initial]
        self._skip = (KIND_CODES["vessel"], KIND_CODES["aircraft"])

    def with_dispositions(self, dispositions: Dispositions) -> Screener:
        """A screener on the same index (and token cache) with other dispositions."""
        other = Screener.__new__(Screener)
        other.__dict__.update(self.__dict__)
        other.dispositions = dispositions
        return other

    # -- query variants -------------------------------------------------------

    def _variant_tokens(self, names: list[NormalizedName], name_ptr: np.ndarray, flat: list[int],
                        slot_of: dict[TokenKey, int]) -> tuple[dict[int, list[tuple[int, int]]],
                                                              list[tuple[int, int] | None]]:
        """The joined tokens and split parts of the query variants, looked up together (one kernel call).

        Two adjacent tokens are joined when the list holds the joined token exactly, or closely
        (one edit from a list token, best similarity 0.8 or more) when it is six letters or more
        and a list holds not both parts. A token splits where :meth:`TokenMatcher.parts_many` says.
        Query ``q``'s token slots are ``flat[name_ptr[q]:name_ptr[q+1]]``. Returns, per query with
        any, the (position, slot) of each joined pair, in order; and per slot of the batch's tokens,
        the slots of its two parts, or ``None``.
        """
        matcher = self.tokens
        keys = list(slot_of)
        splits = matcher.parts_many(keys)
        status = matcher.join_status(keys, name_ptr, np.fromiter(flat, dtype=np.int64, count=len(flat)))
        at = np.flatnonzero(status)
        owners = (np.searchsorted(name_ptr, at, side="right") - 1).tolist()
        pairs = [(q, p, (keys[flat[p]][0] + keys[flat[p + 1]][0], names[q].abjad))
                 for q, p in zip(owners, at.tolist(), strict=True)]
        parts = [(part, abjad) for found, (_, abjad) in zip(splits, keys, strict=True) if found is not None
                 for part in found]
        matcher.prepare([*(key for _, _, key in pairs), *parts])
        close = status[at] == 1
        best = matcher.best_many(key for (_, _, key), near in zip(pairs, close.tolist(), strict=True) if near)
        accepted = iter(sim >= 0.8 for sim in best)
        part_slots = [None if found is None else (slot_of.setdefault((found[0], abjad), len(slot_of)),
                                                  slot_of.setdefault((found[1], abjad), len(slot_of)))
                      for found, (_, abjad) in zip(splits, keys, strict=True)]
        joins: dict[int, list[tuple[int, int]]] = {}
        for (q, p, key), near in zip(pairs, close.tolist(), strict=True):
            if not near or next(accepted):
                joins.setdefault(q, []).append((p - int(name_ptr[q]), slot_of.setdefault(key, len(slot_of))))
        return joins, part_slots

    @staticmethod
    def _variant_slots(slots: list[int], joins: list[tuple[int, int]],
                       parts: list[tuple[int, int] | None]) -> list[list[int]]:
        """The query's token slots, plus variants with adjacent tokens joined or a token split in two.

        ``joins``: (position, slot of the joined token) of each pair to join; ``parts``, per slot:
        the slots of its two parts, or ``None``.
        """
        variants = [slots]
        for i, joined in joins:
            variants.append([*slots[:i], joined, *slots[i + 2:]])
        for i, slot in enumerate(slots):
            if (split := parts[slot]) is not None:
                variants.append([*slots[:i], *split, *slots[i + 1:]])
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
        if not self.dispositions.records:
            return [ScreenResult(query, cache[key][1]) for key, query in zip(keys, queries, strict=True)]
        return [self._disposed(query, *cache[key]) for key, query in zip(keys, queries, strict=True)]

    def _disposed(self, query: Query, name: NormalizedName, matches: tuple[Match, ...]) -> ScreenResult:
        if not matches or not self.dispositions.records:
            return ScreenResult(query, matches)
        kept, suppressed = [], []
        name_key = name.key
        for m in matches:
            decision = self.dispositions.find(name_key, query.account, m.entry)
            if decision is None:
                kept.append(m)
            else:
                suppressed.append(f"{m.entry.list_name} {m.entry.entry_id} {m.matched_name!r} "
                                  f"score {m.score:.3f} cleared by {decision.describe()}")
        return ScreenResult(query, tuple(kept), tuple(suppressed))

    def _screen_unique(self, queries: list[Query]) -> list[tuple[NormalizedName, tuple[Match, ...]]]:
        """Each query's normalised name and matches (before dispositions), the batch's work shared."""
        names = [normalize(query.name) if query.name else NormalizedName(()) for query in queries]
        # The batch's tokens, name after name; each distinct (token, abjad) gets a slot, in order.
        name_keys = [(tok, name.abjad) for name in names for tok in name.tokens[:MAX_TOKENS]]
        slot_of: dict[TokenKey, int] = {key: slot for slot, key in enumerate(dict.fromkeys(name_keys))}
        flat = list(map(slot_of.__getitem__, name_keys))
        name_ptr = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum(np.fromiter((min(len(name.tokens), MAX_TOKENS) for name in names), dtype=np.int64,
                              count=len(names)), out=name_ptr[1:])
        bounds = name_ptr.tolist()
        # Every distinct token of the batch is looked up once, all together (variants add a few more).
        self.tokens.prepare(list(slot_of))
        joins, parts = self._variant_tokens(names, name_ptr, flat, slot_of)
        # The variants, query after query: a query without joins or splits has only its own tokens,
        # so runs of such queries are copied as they are.
        splitting = np.fromiter((found is not None for found in parts), dtype=np.bool_, count=len(parts))
        split_at = np.flatnonzero(splitting[np.fromiter(flat, dtype=np.int64, count=len(flat))])
        special = sorted({*joins, *(np.searchsorted(name_ptr, split_at, side="right") - 1).tolist()})
        occ_slot: list[int] = []  # per token of each variant
        qv_len: list[int] = []
        qv_owner: list[int] = []
        name_len = np.diff(name_ptr).tolist()
        no_joins: list[tuple[int, int]] = []
        done = 0
        for qi in [*special, len(names)]:
            if qi > done:  # queries done..qi-1: one variant each, their own tokens
                occ_slot.extend(flat[bounds[done]:bounds[qi]])
                qv_len.extend(name_len[done:qi])
                qv_owner.extend(range(done, qi))
            if qi == len(names):
                break
            for variant in self._variant_slots(flat[bounds[qi]:bounds[qi + 1]], joins.get(qi, no_joins), parts):
                occ_slot.extend(variant)
                qv_len.append(len(variant))
                qv_owner.append(qi)
            done = qi + 1
        qv_ptr = np.zeros(len(qv_len) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(qv_len, dtype=np.int64, count=len(qv_len)), out=qv_ptr[1:])
        occ = np.fromiter(occ_slot, dtype=np.int64, count=len(occ_slot))
        qt, hit_ptr, hit_tok, hit_sim = self._token_arrays(list(slot_of), occ)
        owner = np.fromiter(qv_owner, dtype=np.int64, count=len(qv_owner))
        person = np.fromiter((q.person for q in queries), dtype=np.bool_, count=len(queries))
        index = self.index
        s = self.settings
        out_name, out_score = score_queries(
            qv_ptr, qt.weight, qt.first, qt.length, hit_ptr, hit_tok, hit_sim,
            person[owner], index.name_ptr, index.name_tok, index.name_kind, index.name_weak, index.post_ptr,
            index.post_name, self._init_ptr, self._init_name, index.token_weight, index.token_first,
            index.token_len, self._name_weight, self._name_initial, self._skip[0], self._skip[1],
            s.weak_alias_penalty, s.name_extra_factor, s.max_postings, s.floor - s.evidence.dob_exact_bonus
            - s.evidence.country_match_bonus, s.top_k, self._vhead, self._seen, self._hit_mask)
        per_query = self._best_per_entry(queries, owner, out_name, out_score)
        return [self._result(query, name, found) if (found := per_query.get(i)) else (name, ())
                for i, (query, name) in enumerate(zip(queries, names, strict=True))]

    def _token_arrays(self, slots: list[TokenKey], occ_slot: np.ndarray
                      ) -> tuple[_QueryTokens, np.ndarray, np.ndarray, np.ndarray]:
        """Per token occurrence: weight, first letter, length and (CSR) similar list tokens."""
        index = self.index
        tokens = [tok for tok, _ in slots]
        tid = np.fromiter(map(index.vocab.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        weight = np.where(tid >= 0, index.token_weight[tid], index.unknown_weight) if len(tid) else np.zeros(0)
        first = np.fromiter((ord(tok[0]) for tok in tokens), dtype=np.int32, count=len(tokens))
        length = np.fromiter(map(len, tokens), dtype=np.int32, count=len(tokens))
        slot_ptr, slot_tok, slot_sim = self.tokens.hits_csr(slots)
        sizes = np.diff(slot_ptr)
        occ_sizes = sizes[occ_slot]
        hit_ptr = np.zeros(len(occ_slot) + 1, dtype=np.int64)
        np.cumsum(occ_sizes, out=hit_ptr[1:])
        gather = np.repeat(slot_ptr[occ_slot] - hit_ptr[:-1], occ_sizes) + np.arange(hit_ptr[-1], dtype=np.int64)
        qt = _QueryTokens(weight[occ_slot].astype(np.float64), first[occ_slot], length[occ_slot])
        return qt, hit_ptr, slot_tok[gather], slot_sim[gather]

    def _best_per_entry(self, queries: list[Query], owner: np.ndarray, out_name: np.ndarray,
                        out_score: np.ndarray) -> dict[int, list[tuple[int, float, int]]]:
        """Query index → (entry, best name score, name id) of each entry that may still reach the floor.

        Of an entry's names the best scoring one counts (the first found on ties). An entry whose
        name score stays below the floor even with the largest evidence bonus the query could earn
        is left out here, before any match is built.
        """
        rows, cols = np.nonzero(out_name >= 0)  # variant by variant, best-k slots in order
        if not len(rows):
            return {}
        name_id = out_name[rows, cols]
        score = out_score[rows, cols]
        query_of = owner[rows]
        entry = self.index.name_entry[name_id]
        order = np.lexsort((np.arange(len(rows)), -score, entry, query_of))
        q_sorted, e_sorted = query_of[order], entry[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (q_sorted[1:] != q_sorted[:-1]) | (e_sorted[1:] != e_sorted[:-1])
        keep = order[first]
        reachable = score[keep] + self._bonus_bound(queries)[query_of[keep]] >= self.settings.floor - 1e-9
        keep = keep[reachable]
        per_query: dict[int, list[tuple[int, float, int]]] = {}
        for q, e, sc, n in zip(query_of[keep].tolist(), entry[keep].tolist(), score[keep].tolist(),
                               name_id[keep].tolist(), strict=True):
            per_query.setdefault(q, []).append((e, sc, n))
        return per_query

    def _bonus_bound(self, queries: list[Query]) -> np.ndarray:
        """Per query, the most its date of birth, country and kind can raise a name score."""
        ev = self.settings.evidence
        dob_gain = max(0.0, ev.dob_exact_bonus, ev.dob_year_bonus, -ev.dob_mismatch_penalty)
        country_gain = max(0.0, ev.country_match_bonus, -ev.country_mismatch_penalty)
        kind_gain = max(0.0, -self.settings.person_entity_penalty)
        return np.fromiter(((dob_gain if q.date_of_birth and parse_query_dob(q.date_of_birth) else 0.0)
                            + (country_gain if q.country else 0.0) + (kind_gain if q.person else 0.0)
                            for q in queries), dtype=np.float64, count=len(queries))

    def _result(self, query: Query, name: NormalizedName,
                candidates: Sequence[tuple[int, float, int]]) -> tuple[NormalizedName, tuple[Match, ...]]:
        """The query's matches, best first, after evidence (dispositions come later)."""
        if not candidates:
            return name, ()
        index = self.index
        dob = parse_query_dob(query.date_of_birth)
        country = query.country.upper() if query.country else None
        settings = self.settings
        matches = []
        for e, name_score, n in candidates:
            entry = index.entries[e]
            score, notes = adjust(name_score, entry, dob, country, settings.evidence)
            if query.person and entry.kind == ENTITY:
                score = max(score - settings.person_entity_penalty, 0.0)
                notes = (*notes, "an individual against an organisation's name")
            if score >= settings.floor:
                matches.append(Match(entry, index.name_text(n), round(name_score, 4), round(score, 4), notes))
        matches.sort(key=lambda m: (-m.score, m.entry.list_name, m.entry.entry_id))
        return name, tuple(matches[:settings.top_k])
