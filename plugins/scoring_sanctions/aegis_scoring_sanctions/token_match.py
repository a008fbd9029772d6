"""Query token → similar list tokens, through the index's blocking keys, scored with rapidfuzz.

A token's candidates are the list tokens sharing a one-deletion key with it (one typo, insertion,
deletion or transposition), its Metaphone, transliteration-variant or spelling key, or — for tokens from
Arabic-script names — its consonant skeleton. Each candidate gets the rapidfuzz
optimal-string-alignment similarity; agreeing phonetic keys raise it (by at most
``phonetic_lift``, to at most ``phonetic_similarity``); an agreeing spelling key, or skeleton of an
Arabic-script token, sets it to ``phonetic_similarity``. Results are cached per token (bounded), since names
reuse tokens heavily.

A long token no list holds may be two joined tokens (``raqibtakhari``): :meth:`TokenMatcher.split`
finds the best split into a list token and a part close to one.
"""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import OSA

from aegis_scoring_sanctions.index import MIN_DELETE_LEN, MIN_KEY_LEN, MIN_SKELETON_LEN, NameIndex, deletions
from aegis_scoring_sanctions.phonetic import skeleton, sound_key, spelling_key, variant_key

#: A query token's similar list tokens: (token ids, similarities), best first.
TokenHits = tuple[tuple[int, ...], tuple[float, ...]]
NO_HITS: TokenHits = ((), ())

#: Tokens shorter than this never get a phonetic lift (``din``/``diane`` share a Metaphone key).
MIN_PHONETIC_LEN = 3
#: At most this many similar list tokens are kept per query token (the closest).
MAX_HITS = 24
#: Similarity given to list tokens sharing a two-consonant skeleton with an Arabic-script token.
SHORT_SKELETON_SIMILARITY = 0.8
#: A split part must match a list token at least this well.
SPLIT_SIMILARITY = 0.8


class TokenMatcher:
    """Finds list tokens similar to a query token; one per index (a reload makes a new one)."""

    def __init__(self, index: NameIndex, min_similarity: float = 0.72, phonetic_similarity: float = 0.86,
                 phonetic_lift: float = 0.25, cache_size: int = 200_000):
        self.index = index
        self.min_similarity = min_similarity
        self.phonetic_similarity = phonetic_similarity
        self.phonetic_lift = phonetic_lift
        self.cache_size = cache_size
        self._cache: dict[tuple[str, bool], TokenHits] = {}
        self._splits: dict[str, tuple[str, str] | None] = {}

    def hits(self, token: str, abjad: bool = False) -> TokenHits:
        """Similar list tokens of ``token``, best first (cached)."""
        key = (token, abjad)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            found = self._cache[key] = self._compute(token, abjad)
        return found

    def best(self, token: str, abjad: bool = False) -> float:
        """Similarity of the closest list token (0 when none is close)."""
        sims = self.hits(token, abjad)[1]
        return sims[0] if sims else 0.0

    def near(self, token: str) -> bool:
        """Whether some list token is at most one edit from ``token`` (deletion keys only: cheap)."""
        deletes = self.index.deletes
        return token in deletes or any(d in deletes for d in deletions(token))

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

    def _compute(self, token: str, abjad: bool) -> TokenHits:
        index = self.index
        exact = index.vocab.get(token)
        edits: set[int] = set()  # one edit away (or more, through a shared deletion)
        if len(token) >= MIN_DELETE_LEN:
            get = index.deletes.get
            for key in (token, *deletions(token)):
                found = get(key)
                if found:
                    edits.update(found)
        lifted: set[int] = set()  # same Metaphone or transliteration-variant key
        same: set[int] = set()  # same spelling key or (Arabic script) skeleton
        if len(token) >= MIN_PHONETIC_LEN:
            if len(key := sound_key(token)) >= MIN_KEY_LEN:
                lifted.update(index.sounds.get(key, ()))
            if len(key := variant_key(token)) >= MIN_KEY_LEN:
                lifted.update(index.variants.get(key, ()))
        if key := spelling_key(token):
            same.update(index.spellings.get(key, ()))
        short: set[int] = set()  # same two-consonant skeleton: weaker evidence
        if abjad:
            for key in (skeleton(token), skeleton(token[1:]) if token[:1] == "l" else ""):
                if len(key) >= MIN_KEY_LEN:
                    same.update(index.skeletons.get(key, ()))
                elif len(key) >= MIN_SKELETON_LEN:
                    short.update(index.skeletons.get(key, ()))
        candidates = edits | lifted | same | short
        if exact is not None:
            candidates.add(exact)
        if not candidates:
            return NO_HITS
        ids = list(candidates)
        tokens = index.tokens
        sims = process.cdist([token], [tokens[t] for t in ids], scorer=OSA.normalized_similarity)[0]
        floor = self.min_similarity
        ceiling = self.phonetic_similarity
        lift = self.phonetic_lift
        out = []
        for tid, raw in zip(ids, sims.tolist(), strict=True):
            sim = raw
            if sim < ceiling and tid != exact:
                if tid in same:
                    sim = ceiling
                elif tid in short:
                    sim = max(sim, SHORT_SKELETON_SIMILARITY)
                elif tid in lifted and index.token_len[tid] >= MIN_PHONETIC_LEN:
                    sim = min(ceiling, sim + lift)
            if sim >= floor:
                out.append((sim, raw, tid))
        if not out:
            return NO_HITS
        out.sort(reverse=True)  # by similarity, ties by the plain edit similarity
        del out[MAX_HITS:]
        return tuple(t for _, _, t in out), tuple(s for s, _, _ in out)
