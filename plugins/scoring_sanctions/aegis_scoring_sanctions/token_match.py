"""Query token → similar list tokens, through the index's blocking keys.

A token's candidates are the list tokens sharing a one-deletion key with it (one typo, insertion,
deletion or transposition), its Metaphone, transliteration-variant or spelling key, or — for tokens
from Arabic-script names — its consonant skeleton. Each candidate gets the optimal-string-alignment
similarity (rapidfuzz's ``OSA.normalized_similarity``, as ``process.cdist`` returns it); agreeing
phonetic keys raise it (by at most ``phonetic_lift``, to at most ``phonetic_similarity``); an
agreeing spelling key, or skeleton of an Arabic-script token, sets it to ``phonetic_similarity``.

Every key look-up (Metaphone included) and the scoring, for all new tokens of a batch at once,
happen in the numba kernel of :mod:`~aegis_scoring_sanctions.token_kernel` (on the
index's maps in :class:`~aegis_scoring_sanctions.key_table.KeyTable` form). Results are cached per
token (bounded), in flat arrays, since names reuse tokens heavily even when whole names are new.

A long token no list holds may be two joined tokens (``raqibtakhari``): :meth:`TokenMatcher.split`
finds the best split into a list token and a part close to one; :meth:`TokenMatcher.parts_many`
does the same for a batch of tokens inside the kernel (:func:`~aegis_scoring_sanctions.token_kernel.split_tokens`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import repeat

import numpy as np

from aegis_scoring_sanctions.index import MIN_DELETE_LEN, MIN_KEY_LEN, MIN_SKELETON_LEN, NameIndex
from aegis_scoring_sanctions.key_table import KeyTable
from aegis_scoring_sanctions.token_kernel import join_pairs, score_tokens, split_tokens

#: A query token's similar list tokens: (token ids, similarities), best first.
TokenHits = tuple[tuple[int, ...], tuple[float, ...]]
#: A query token as the matcher sees it: the token and whether its name was written in an abjad.
TokenKey = tuple[str, bool]

#: Tokens shorter than this never get a phonetic lift (``din``/``diane`` share a Metaphone key).
MIN_PHONETIC_LEN = 3
#: At most this many similar list tokens are kept per query token (the closest).
MAX_HITS = 24
#: Similarity given to list tokens sharing a two-consonant skeleton with an Arabic-script token.
SHORT_SKELETON_SIMILARITY = 0.8
#: A joined token shorter than this is not looked up unless a list holds it exactly.
MIN_JOINED_LEN = 6
#: A split part must match a list token at least this well.
SPLIT_SIMILARITY = 0.8
#: A cached key's hits are stored as ``start << _COUNT_BITS | count``.
_COUNT_BITS = 5
_COUNT_MASK = (1 << _COUNT_BITS) - 1
assert MAX_HITS <= _COUNT_MASK
#: The kernel's minimum lengths: token for deletion keys, token for phonetic keys, key, skeleton.
_LIMITS = (MIN_DELETE_LEN, MIN_PHONETIC_LEN, MIN_KEY_LEN, MIN_SKELETON_LEN)


class TokenMatcher:
    """Finds list tokens similar to a query token; one per index (a reload makes a new one)."""

    def __init__(self, index: NameIndex, min_similarity: float = 0.72, phonetic_similarity: float = 0.86,
                 phonetic_lift: float = 0.25, cache_size: int = 200_000):
        self.index = index
        self.min_similarity = min_similarity
        self.phonetic_similarity = phonetic_similarity
        self.phonetic_lift = phonetic_lift
        self.cache_size = cache_size
        self._cache: dict[TokenKey, int] = {}  # → where its hits are in the store (see _codes)
        self._tok = np.empty(4096, dtype=np.int32)  # the store: hits of the cached keys, key after key
        self._sim = np.empty(4096, dtype=np.float64)
        self._used = 0
        self._splits: dict[str, tuple[str, str] | None] = {}
        self._parts: dict[TokenKey, tuple[str, str] | None] = {}
        self._tok_chars, self._tok_ptr = _encode(index.tokens)
        self._max_len = int(index.token_len.max()) if len(index.token_len) else 0
        self._flags = np.zeros(max(len(index.tokens), 1), dtype=np.uint8)
        self._tables = tuple(KeyTable.build(m) for m in (index.deletes, index.sounds, index.variants,
                                                         index.spellings, index.skeletons))
        self._vocab = KeyTable.build({token: (tid,) for token, tid in index.vocab.items()})
        #: The kernels' arguments after the key tables: list tokens, limits, similarities.
        self._scoring = (self._tok_chars, self._tok_ptr, index.token_len, self._max_len, _LIMITS, min_similarity,
                         phonetic_similarity, phonetic_lift, SHORT_SKELETON_SIMILARITY)

    def hits(self, token: str, abjad: bool = False) -> TokenHits:
        """Similar list tokens of ``token``, best first (cached)."""
        _, ids, sims = self.hits_csr([(token, abjad)])
        return tuple(ids.tolist()), tuple(sims.tolist())

    def best(self, token: str, abjad: bool = False) -> float:
        """Similarity of the closest list token (0 when none is close)."""
        code = self._cache.get((token, abjad))
        if code is None:
            code = self._codes([(token, abjad)])[0]
        return float(self._sim[code >> _COUNT_BITS]) if code & _COUNT_MASK else 0.0

    def best_many(self, keys: Iterable[TokenKey]) -> list[float]:
        """:meth:`best` of each key (the ones not cached looked up together)."""
        codes = self._codes(keys)
        codes = np.fromiter(codes, dtype=np.int64, count=len(codes))
        found = (codes & _COUNT_MASK) > 0
        best = np.zeros(len(codes), dtype=np.float64)
        best[found] = self._sim[codes[found] >> _COUNT_BITS]  # a key without hits may start past the store
        return best.tolist()

    def prepare(self, keys: Iterable[TokenKey]) -> None:
        """Compute (together, in one kernel call) and cache the hits of those ``keys`` not cached yet."""
        self._codes(keys)

    def hits_csr(self, keys: Iterable[TokenKey]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`hits` of each key as arrays: key ``i``'s are ``ids[ptr[i]:ptr[i+1]]``, ``sims[...]``."""
        codes = self._codes(keys)
        codes = np.fromiter(codes, dtype=np.int64, count=len(codes))
        counts = codes & _COUNT_MASK
        ptr = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        gather = np.repeat((codes >> _COUNT_BITS) - ptr[:-1], counts) + np.arange(ptr[-1], dtype=np.int64)
        return ptr, self._tok[gather], self._sim[gather]

    def _codes(self, keys: Iterable[TokenKey]) -> list[int]:
        """Each key's hits as ``start << _COUNT_BITS | count`` in the store, computing the missing ones.

        The store is emptied when it would pass ``cache_size`` keys; then all of this call's keys
        are computed afresh, so the codes returned together are valid together.
        """
        keys = list(keys)
        cache = self._cache
        found = list(map(cache.get, keys))
        if None not in found:
            return found
        missing = dict.fromkeys(key for key, code in zip(keys, found, strict=True) if code is None)
        if len(cache) + len(missing) > self.cache_size:
            cache.clear()
            self._used = 0
            missing = dict.fromkeys(keys)
        hit_ptr, hit_tok, hit_sim = self._compute(list(missing))
        start = self._store(hit_tok, hit_sim)
        codes = (start + hit_ptr[:-1]) << _COUNT_BITS | np.diff(hit_ptr)
        cache.update(zip(missing, codes.tolist(), strict=True))
        return list(map(cache.__getitem__, keys))

    def _store(self, ids: np.ndarray, sims: np.ndarray) -> int:
        """Append hits to the store (growing it); where they start."""
        start = self._used
        end = start + len(ids)
        if end > len(self._tok):
            size = max(2 * len(self._tok), end)
            self._tok = np.concatenate([self._tok[:start], np.empty(size - start, dtype=np.int32)])
            self._sim = np.concatenate([self._sim[:start], np.empty(size - start, dtype=np.float64)])
        self._tok[start:end] = ids
        self._sim[start:end] = sims
        self._used = end
        return start

    def parts_of(self, token: str, abjad: bool = False) -> tuple[str, str] | None:
        """The two tokens ``token`` may be written for (cached): two list tokens, or :meth:`split`'s pair.

        :meth:`split` is tried for a token of six letters or more that no list holds and none
        holds closely (best similarity under 0.9). One token at a time, in Python: the definition
        :meth:`parts_many` (what screening uses) is tested against.
        """
        key = (token, abjad)
        if key in self._parts:
            return self._parts[key]
        if len(self._parts) >= self.cache_size:
            self._parts.clear()
        found = self.list_split(token)
        if found is None and token not in self.index.vocab and len(token) >= 6 and self.best(token, abjad) < 0.9:
            found = self.split(token, abjad)
        self._parts[key] = found
        return found

    def parts_many(self, keys: list[TokenKey]) -> list[tuple[str, str] | None]:
        """:meth:`parts_of` of each key (``None`` under four letters); the new ones in one kernel call.

        Gives what :meth:`parts_of`, the reference, gives called key after key (its memory of
        :meth:`split` per token, whatever the abjad flag, included).
        """
        parts = self._parts
        todo = list(dict.fromkeys(key for key in keys if len(key[0]) >= 4 and key not in parts))
        if todo:
            if len(parts) + len(todo) > self.cache_size:
                parts.clear()  # then every key of this call is looked up afresh
                todo = list(dict.fromkeys(key for key in keys if len(key[0]) >= 4))
            splits = self._splits
            if len(splits) + len(todo) > self.cache_size:
                splits.clear()
            vocab = self.index.vocab
            tokens, abjads = zip(*todo, strict=True)
            eligible = [len(token) >= 6 and token not in vocab and sim < 0.9
                        for token, sim in zip(tokens, self.best_many(todo), strict=True)]
            searched: dict[str, int] = {}  # token → the first key that searches its split
            for i, token in enumerate(tokens):
                if eligible[i] and token not in splits and token not in searched:
                    searched[token] = i
            search = np.zeros(len(todo), dtype=np.bool_)
            search[list(searched.values())] = True
            q_chars, q_ptr = _encode(tokens)
            q_abjad = np.fromiter(abjads, dtype=np.bool_, count=len(todo))
            list_at, best_at = split_tokens(q_chars, q_ptr, q_abjad, search, self._vocab, *self._tables,
                                            *self._scoring, SPLIT_SIMILARITY, self._flags)
            list_at, best_at = list_at.tolist(), best_at.tolist()
            for token, i in searched.items():
                if not list_at[i]:
                    k = best_at[i]
                    splits[token] = (token[:k], token[k:]) if k else None
            for i, (key, k) in enumerate(zip(todo, list_at, strict=True)):
                token = key[0]
                parts[key] = (token[:k], token[k:]) if k else splits[token] if eligible[i] else None
        return [parts[key] if len(key[0]) >= 4 else None for key in keys]

    def join_status(self, keys: list[TokenKey], name_ptr: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Per pair of adjacent tokens: the joined token is a list token (2), may be close to one (1), neither (0).

        Name ``n``'s tokens are ``keys[s]`` for ``s`` in ``slots[name_ptr[n]:name_ptr[n+1]]``; the
        pair starting at position ``p`` of ``slots`` gets entry ``p``
        (:func:`~aegis_scoring_sanctions.token_kernel.join_pairs`).
        """
        q_chars, q_ptr = _encode([token for token, _ in keys])
        return join_pairs(name_ptr, slots, q_chars, q_ptr, self._vocab, self._tables[0], MIN_JOINED_LEN)

    def list_split(self, token: str) -> tuple[str, str] | None:
        """The first split of ``token`` into two list tokens (shortest left part), if any."""
        vocab = self.index.vocab
        for k in range(2, len(token) - 1):
            if token[:k] in vocab and token[k:] in vocab:
                return token[:k], token[k:]
        return None

    def split(self, token: str, abjad: bool = False) -> tuple[str, str] | None:
        """The best split of ``token`` into a list token and a part close to one (cached).

        One part must be a list token exactly: a joined pair with a typo in one half splits, a
        random long token costs only dictionary look-ups.
        """
        if token in self._splits:
            return self._splits[token]
        if len(self._splits) >= self.cache_size:
            self._splits.clear()
        vocab = self.index.vocab
        best: tuple[float, int] = (0.0, 0)
        for k in range(2, len(token) - 1):
            left, right = token[:k], token[k:]
            if left in vocab:
                sl, sr = 1.0, self.best(right, abjad) if len(right) >= MIN_DELETE_LEN else 0.0
            elif right in vocab:
                sl, sr = self.best(left, abjad) if len(left) >= MIN_DELETE_LEN else 0.0, 1.0
            else:
                continue
            if min(sl, sr) < SPLIT_SIMILARITY:
                continue
            quality = sl * len(left) + sr * len(right)
            if quality > best[0]:
                best = (quality, k)
        found = (token[:best[1]], token[best[1]:]) if best[1] else None
        self._splits[token] = found
        return found

    def _compute(self, keys: list[TokenKey]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Find and score the candidates of every token in one kernel call."""
        tokens, abjads = zip(*keys, strict=True) if keys else ((), ())
        exact_ids = np.fromiter(map(self.index.vocab.get, tokens, repeat(-1)), dtype=np.int32, count=len(keys))
        q_chars, q_ptr = _encode(tokens)
        q_abjad = np.fromiter(abjads, dtype=np.bool_, count=len(keys))
        return score_tokens(q_chars, q_ptr, q_abjad, exact_ids, *self._tables, *self._scoring, MAX_HITS,
                            self._flags)


def _encode(tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """ASCII tokens as one byte array and offsets (CSR)."""
    ptr = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)), out=ptr[1:])
    return np.frombuffer("".join(tokens).encode("ascii") or b"\0", dtype=np.uint8), ptr
