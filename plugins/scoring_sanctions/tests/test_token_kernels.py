"""The numba token matching (key tables, phonetic keys on bytes, candidate scoring) against plain Python."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np
import pytest
from aegis_scoring_sanctions import phonetic, phonetic_kernel
from aegis_scoring_sanctions.index import MIN_DELETE_LEN, MIN_KEY_LEN, MIN_SKELETON_LEN, NameIndex, deletions
from aegis_scoring_sanctions.key_table import KeyTable, find
from aegis_scoring_sanctions.token_kernel import (
    CAND_EDIT,
    CAND_LIFTED,
    CAND_SAME,
    CAND_SHORT,
    _distance_floor,
    _similarity,
    _similarity_ceiling,
)
from aegis_scoring_sanctions.token_match import (
    MAX_HITS,
    MIN_PHONETIC_LEN,
    SHORT_SKELETON_SIMILARITY,
    TokenMatcher,
)
from rapidfuzz import process
from rapidfuzz.distance import OSA

CRAFTED = ["", "y", "yy", "ya", "yya", "yusuf", "eee", "ouie", "tchzh", "dzhdj", "phdjq", "ab1", "x9", "qwq",
           "aaaa", "mohammed", "muhammad", "nadhirullah", "zhibril", "iiahia", "keem", "lhsyn"]


def _bytes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("ascii") or b"\0", dtype=np.uint8)


def _mutations(tokens: list[str], rng: random.Random, n: int) -> list[str]:
    """Tokens with a random edit: the kind of tokens queries bring (typos, joins, unknown names)."""
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(n):
        tok = list(rng.choice(tokens))
        op = rng.randrange(4)
        pos = rng.randrange(len(tok))
        if op == 0:
            tok[pos] = rng.choice(letters)
        elif op == 1:
            tok.insert(pos, rng.choice(letters))
        elif op == 2 and len(tok) > 1:
            del tok[pos]
        else:
            tok += rng.choice(tokens)
        out.append("".join(tok))
    return out


def _reference_hits(index: NameIndex, token: str, abjad: bool, floor: float = 0.72, ceiling: float = 0.86,
                    lift: float = 0.25) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """What a query token's hits are, by their definition: dict look-ups, sets, rapidfuzz OSA, a sort."""
    exact = index.vocab.get(token)
    edits: set[int] = set()
    if len(token) >= MIN_DELETE_LEN:
        for key in (token, *deletions(token)):
            edits.update(index.deletes.get(key, ()))
    lifted: set[int] = set()
    same: set[int] = set()
    if len(token) >= MIN_PHONETIC_LEN:
        if len(key := phonetic.sound_key(token)) >= MIN_KEY_LEN:
            lifted.update(index.sounds.get(key, ()))
        if len(key := phonetic.variant_key(token)) >= MIN_KEY_LEN:
            lifted.update(index.variants.get(key, ()))
    if key := phonetic.spelling_key(token):
        same.update(index.spellings.get(key, ()))
    short: set[int] = set()
    if abjad:
        for key in (phonetic.skeleton(token), phonetic.skeleton(token[1:]) if token[:1] == "l" else ""):
            if len(key) >= MIN_KEY_LEN:
                same.update(index.skeletons.get(key, ()))
            elif len(key) >= MIN_SKELETON_LEN:
                short.update(index.skeletons.get(key, ()))
    candidates = edits | lifted | same | short | ({exact} if exact is not None else set())
    if not candidates:
        return (), ()
    ids = sorted(candidates)
    raws = process.cdist([token], [index.tokens[t] for t in ids], scorer=OSA.normalized_similarity)[0].tolist()
    out = []
    for tid, raw in zip(ids, raws, strict=True):
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
    out.sort(reverse=True)
    del out[MAX_HITS:]
    return tuple(t for _, _, t in out), tuple(s for s, _, _ in out)


@pytest.mark.parametrize("name", ["variant_key", "spelling_key", "skeleton"])
def test_phonetic_keys_on_bytes_equal_the_python_keys(index, name):
    python_key = getattr(phonetic, name)
    kernel_key = getattr(phonetic_kernel, name)
    out = np.zeros(64, dtype=np.uint8)
    tmp = np.zeros(64, dtype=np.uint8)
    rng = random.Random(11)
    tokens = [*index.tokens, *CRAFTED, *_mutations(index.tokens, rng, 3000)]
    for token in tokens:
        n = kernel_key(_bytes(token), 0, len(token), out, tmp)
        assert bytes(out[:n]).decode() == python_key(token), token


def test_metaphone_on_bytes_equals_jellyfish(index):
    """Every list token and 20,000 mutated or random ones: the port agrees with jellyfish's Metaphone."""
    out = np.zeros(128, dtype=np.uint8)
    rng = random.Random(12)
    letters = "abcdefghijklmnopqrstuvwxyz"
    random_tokens = ["".join(rng.choice(letters[:rng.randrange(5, 27)]) for _ in range(rng.randrange(1, 9)))
                     for _ in range(10_000)]
    crafted = ["foreign", "gnome", "knight", "aeon", "wright", "lamb", "mbm", "singh", "ghgh", "xhosa", "xiao",
               "tchaikovsky", "sciacca", "dgenerate", "witch", "whale", "yyy", "accra", "thth", "ab1"]
    for token in [*index.tokens, *CRAFTED, *crafted, *_mutations(index.tokens, rng, 10_000), *random_tokens]:
        n = phonetic_kernel.sound_key(_bytes(token), 0, len(token), out)
        assert bytes(out[:n]).decode() == phonetic.sound_key(token), token


def test_key_table_finds_exactly_the_keys_of_its_map(index):
    table = KeyTable.build(index.deletes)
    keys = list(index.deletes)
    for k in range(0, len(keys), 97):
        chars = _bytes(keys[k])
        found = find(table, chars, 0, len(keys[k]), -1)
        assert found == k
        assert tuple(table.val_tok[table.val_ptr[found]:table.val_ptr[found + 1]]) == index.deletes[keys[k]]
    rng = random.Random(3)
    for token in [*CRAFTED, *_mutations(index.tokens, rng, 5000)]:
        chars = _bytes(token)
        assert (find(table, chars, 0, len(token), -1) >= 0) == (token in index.deletes), token
        for skip in range(len(token)):  # a one-deletion key, searched without being built
            deleted = token[:skip] + token[skip + 1:]
            found = find(table, chars, 0, len(token), skip)
            assert (found >= 0) == (deleted in index.deletes), (token, skip)
            if found >= 0:
                assert bytes(table.key_chars[table.key_ptr[found]:table.key_ptr[found + 1]]).decode() == deleted


def test_token_hits_equal_the_rapidfuzz_definition(index):
    rng = random.Random(7)
    sample = rng.sample(index.tokens, 1500)
    keys = [(t, False) for t in [*sample, *CRAFTED[1:], *_mutations(index.tokens, rng, 2500)]]
    keys += [(t, True) for t in [*sample[:400], "mhmd", "hsyn", "lhsn", "bn", "abw", "sm"]]
    matcher = TokenMatcher(index)
    matcher.prepare(keys)  # all at once, in one kernel call
    assert [matcher.hits(*key) for key in keys] == [_reference_hits(index, *key) for key in keys]


def test_hits_stay_right_when_the_token_cache_overflows(index):
    keys = [(t, False) for t in ["ahmad", "ahmed", "mohamad", "osama", "usama", "laden", "ladin", "xqzw"]]
    roomy = TokenMatcher(index)
    tight = TokenMatcher(index, cache_size=3)
    ptr, ids, sims = tight.hits_csr(keys + keys[:2])  # more keys than the cache holds, in one call
    for i, key in enumerate(keys + keys[:2]):
        assert (tuple(ids[ptr[i]:ptr[i + 1]].tolist()), tuple(sims[ptr[i]:ptr[i + 1]].tolist())) \
            == roomy.hits(*key)
    assert [tight.best(*key) for key in keys] == [roomy.best(*key) for key in keys]


def test_split_parts_in_the_kernel_equal_the_python_splits(index):
    """Joined list tokens (with and without a typo), mutated and random tokens, both scripts, repeats."""
    rng = random.Random(5)
    tokens = index.tokens
    joined = [rng.choice(tokens) + rng.choice(tokens) for _ in range(1500)]
    typo = _mutations(joined, rng, 1500)
    letters = "abcdefghijklmnopqrstuvwxyz"
    noise = ["".join(rng.choice(letters) for _ in range(rng.randrange(4, 14))) for _ in range(500)]
    crafted = ["raqibtakhari", "usamabinladen", "abdulrahman", "abdulrahmman", "mohammedali", "jinping", "xy"]
    words = [*crafted, *joined, *typo, *noise, *rng.sample(tokens, 300)]
    keys = [(w, False) for w in words] + [(w, True) for w in words[::3]] + [(w, False) for w in words[:50]]
    rng.shuffle(keys)
    reference = TokenMatcher(index, 0.72, 0.88)
    expected = [reference.parts_of(*key) if len(key[0]) >= 4 else None for key in keys]
    batched = TokenMatcher(index, 0.72, 0.88)
    half = len(keys) // 2  # two calls: the second meets tokens the first already split
    assert batched.parts_many(keys[:half]) + batched.parts_many(keys[half:]) == expected
    assert sum(found is not None for found in expected) > 1000
    assert any(found is not None and found[0] + found[1] not in index.vocab and
               (found[0] not in index.vocab or found[1] not in index.vocab) for found in expected)



def test_split_parts_stay_right_when_the_parts_cache_overflows(index):
    """A call whose new keys overflow the parts cache still answers for the keys cached before it."""
    keys = [(t, False) for t in ["usamabinladen", "abdulrahman", "mohammedali", "raqibtakhari", "jinping"]]
    reference = TokenMatcher(index)
    expected = [reference.parts_of(*key) for key in keys]
    tight = TokenMatcher(index, cache_size=4)
    assert tight.parts_many(keys[:3]) == expected[:3]
    assert tight.parts_many(keys) == expected  # two new keys: 3 + 2 > 4 empties the cache

def test_join_pairs_in_the_kernel_follow_their_definition(index):
    """Adjacent tokens of names: the joined token listed (2), near a list token (1) or neither (0)."""
    rng = random.Random(9)
    tokens = index.tokens
    joined = [t for t in tokens if len(t) >= 7][:400]
    names = [[t[:k], t[k:]] for t in joined for k in (rng.randrange(2, len(t) - 1),)]  # listed when joined
    names += [[t[:k], t[k:] + "x"] for t in joined[:200] for k in (rng.randrange(2, len(t) - 1),)]  # one edit
    names += [rng.sample(tokens, rng.randrange(1, 5)) for _ in range(800)]
    names += [_mutations(tokens, rng, rng.randrange(1, 5)) for _ in range(300)]
    keys = list(dict.fromkeys((t, False) for name in names for t in name))
    slot = {t: i for i, (t, _) in enumerate(keys)}
    name_ptr = np.cumsum([0, *map(len, names)])
    slots = np.array([slot[t] for name in names for t in name], dtype=np.int64)
    status = TokenMatcher(index).join_status(keys, name_ptr, slots).tolist()
    expected = []
    for name in names:
        for left, right in pairwise(name):
            whole = left + right
            near = whole in index.deletes or any(d in index.deletes for d in deletions(whole))
            if whole in index.vocab:
                expected.append(2)
            elif len(whole) >= 6 and not (left in index.vocab and right in index.vocab) and near:
                expected.append(1)
            else:
                expected.append(0)
        expected.append(0)
    assert status == expected
    assert expected.count(2) >= 400 and expected.count(1) >= 100


def test_distance_floor_never_exceeds_the_distance_and_bounds_the_similarity(index):
    """The split search skips a candidate on :func:`_distance_floor`: it must be a true lower bound of
    the OSA distance, and :func:`_similarity_ceiling` an upper bound of :func:`_similarity`."""
    rng = random.Random(11)
    words = [*rng.sample(index.tokens, 600), *_mutations(index.tokens, rng, 600), *CRAFTED]
    counts = np.zeros(256, dtype=np.int64)
    rows = [np.empty(64, dtype=np.int64) for _ in range(3)]
    tight = 0
    for _ in range(6000):
        a, b = rng.choice(words), rng.choice(words)
        if rng.random() < 0.3 and len(a) > 1:  # near pairs: a transposition or a substitution
            i = rng.randrange(len(a) - 1)
            b = a[:i] + a[i + 1] + a[i] + a[i + 2:] if rng.random() < 0.5 else a[:i] + "q" + a[i + 1:]
        ab, bb = _bytes(a), _bytes(b)
        bound = _distance_floor(ab, 0, len(a), bb, 0, len(b), counts)
        distance = OSA.distance(a, b)
        assert bound <= distance, (a, b)
        assert not counts.any()
        tight += bound == distance
        for why in (CAND_EDIT, CAND_LIFTED, CAND_SAME, CAND_SHORT, CAND_EDIT | CAND_LIFTED):
            sim, _ = _similarity(ab, 0, len(a), 0, why, -1, bb, np.zeros(1, dtype=np.int64),
                                 np.array([len(b)]), MIN_PHONETIC_LEN, 0.88, 0.25, SHORT_SKELETON_SIMILARITY, *rows)
            assert _similarity_ceiling(len(a), len(b), bound, why, False, MIN_PHONETIC_LEN, 0.88, 0.25,
                                       SHORT_SKELETON_SIMILARITY) >= sim, (a, b, why)
    assert tight > 1000


def test_best_of_a_token_without_hits_at_the_end_of_a_full_store(index):
    """A key with no hits may start just past the hit store (when the keys before fill it exactly)."""
    tokens = index.tokens[:2000]
    ptr, _, _ = TokenMatcher(index).hits_csr([(t, False) for t in tokens])
    counts = dict(zip(tokens, np.diff(ptr).tolist(), strict=True))
    room = len(TokenMatcher(index)._tok)
    chosen, total = [], 0
    for token, n in counts.items():
        if n and total + n <= room - MAX_HITS:
            chosen.append(token)
            total += n
    last = next(t for t, n in counts.items() if n == room - total and t not in chosen)
    keys = [(t, False) for t in [*chosen, last, "xqzwvk"]]
    matcher = TokenMatcher(index)
    best = matcher.best_many(keys)  # all computed in one call: the store is full, then "xqzwvk" has none
    assert matcher._used == room
    assert best[-1] == 0.0 and best[:-1] == [matcher.best(*key) for key in keys[:-1]]
