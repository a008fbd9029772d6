"""The numba kernels that find a query token's similar list tokens through the blocking keys.

For a whole batch of query tokens at once, :func:`score_tokens` looks up each token's one-deletion
keys, Metaphone, transliteration-variant and spelling keys and (Arabic script) consonant skeletons
in the index's key tables (:class:`~aegis_scoring_sanctions.key_table.KeyTable`), tags each
candidate list token with why it is one (the ``CAND_*`` bits), computes the optimal-string-alignment
similarity (``1 - distance / longer length``, rounded to float32 exactly as rapidfuzz's
``process.cdist`` with ``OSA.normalized_similarity`` returns it), applies the phonetic lift or the
spelling / skeleton similarity, keeps candidates at or above the floor and returns the ``max_hits``
best of each token, best first (ties by the plain edit similarity, then by the higher token id).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from aegis_scoring_sanctions.key_table import find, find_inline
from aegis_scoring_sanctions.phonetic_kernel import skeleton, sound_key, spelling_key, variant_key

#: Why a list token is a candidate of a query token (bits; a candidate may have several).
CAND_EDIT = 1  # shares a one-deletion key
CAND_LIFTED = 2  # same Metaphone or transliteration-variant key: the similarity is lifted
CAND_SAME = 4  # same spelling key or (Arabic script) skeleton: the similarity is set to the ceiling
CAND_SHORT = 8  # same two-consonant skeleton (Arabic script): weaker evidence
CAND_EXACT = 16  # the query token itself


@njit(cache=True, nogil=True)
def _osa_distance(a, a0, la, b, b0, lb, prev2, prev, cur):
    """Optimal string alignment distance of ``a[a0:a0+la]`` and ``b[b0:b0+lb]`` (rows are scratch)."""
    for j in range(lb + 1):
        prev[j] = j
    for i in range(1, la + 1):
        cur[0] = i
        ca = a[a0 + i - 1]
        for j in range(1, lb + 1):
            cb = b[b0 + j - 1]
            cost = 0 if ca == cb else 1
            d = prev[j] + 1
            if cur[j - 1] + 1 < d:
                d = cur[j - 1] + 1
            if prev[j - 1] + cost < d:
                d = prev[j - 1] + cost
            if i > 1 and j > 1 and ca == b[b0 + j - 2] and a[a0 + i - 2] == cb and prev2[j - 2] + 1 < d:
                d = prev2[j - 2] + 1
            cur[j] = d
        for j in range(lb + 1):
            prev2[j] = prev[j]
            prev[j] = cur[j]
    return prev[lb]


@njit(cache=True, nogil=True)
def _add_key(val_ptr, val_tok, key, why, flags, uniq, n_uniq):
    """Tag the token ids of key number ``key`` (-1: none) of a key table (its ``val_ptr``, ``val_tok``)
    with ``why``; new tokens go to ``uniq``; the new count. (Only arrays are passed, not the table:
    a tuple of arrays unpacked in a helper costs numba reference counting on every call.)"""
    start, end = (val_ptr[key], val_ptr[key + 1]) if key >= 0 else (0, 0)
    for v in range(start, end):  # _add, written out; one exit (both keep numba's reference counting out)
        tid = val_tok[v]
        if flags[tid] == 0:
            uniq[n_uniq] = tid
            n_uniq += 1
        flags[tid] |= why
    return n_uniq


@njit(cache=True, nogil=True)
def _add(tid, why, flags, uniq, n_uniq):
    """Tag list token ``tid`` with ``why``, adding it to ``uniq`` (room for every list token) when new."""
    if flags[tid] == 0:
        uniq[n_uniq] = tid
        n_uniq += 1
    flags[tid] |= why
    return n_uniq


@njit(cache=True, nogil=True)
def _gather(q_chars, a0, la, abjad, exact, deletes, sounds, variants, spellings, skeletons, limits, flags, uniq,
            key, tmp):
    """Tag every candidate list token of ``q_chars[a0:a0+la]`` with why it is one: ``uniq[:n]``, ``n`` returned.

    ``uniq`` has room for every list token (a token enters once). No array is rebound here or in
    the helpers: a rebound array costs numba reference counting on every use in a loop.
    """
    min_delete_len, min_phonetic_len, min_key_len, min_skeleton_len = limits
    n_uniq = 0
    if exact >= 0:
        n_uniq = _add(exact, CAND_EXACT, flags, uniq, n_uniq)
    if la >= min_delete_len:
        delete_ptr, delete_tok = deletes[2], deletes[3]
        n_uniq = _add_key(delete_ptr, delete_tok, find(deletes, q_chars, a0, la, -1), CAND_EDIT, flags, uniq, n_uniq)
        for p in range(la):
            n_uniq = _add_key(delete_ptr, delete_tok, find(deletes, q_chars, a0, la, p), CAND_EDIT, flags, uniq,
                              n_uniq)
    if la >= min_phonetic_len:
        n = sound_key(q_chars, a0, la, key)
        if n >= min_key_len:
            n_uniq = _add_key(sounds[2], sounds[3], find(sounds, key, 0, n, -1), CAND_LIFTED, flags, uniq, n_uniq)
        n = variant_key(q_chars, a0, la, key, tmp)
        if n >= min_key_len:
            n_uniq = _add_key(variants[2], variants[3], find(variants, key, 0, n, -1), CAND_LIFTED, flags, uniq, n_uniq)
    n = spelling_key(q_chars, a0, la, key, tmp)
    if n > 0:
        n_uniq = _add_key(spellings[2], spellings[3], find(spellings, key, 0, n, -1), CAND_SAME, flags, uniq, n_uniq)
    if abjad:
        for drop in range(2):  # the skeleton, and that of the token without a leading "l" (al-)
            if drop == 1 and not (la > 0 and q_chars[a0] == 108):
                break
            n = skeleton(q_chars, a0 + drop, la - drop, key, tmp)
            if n >= min_skeleton_len:
                why = CAND_SAME if n >= min_key_len else CAND_SHORT
                n_uniq = _add_key(skeletons[2], skeletons[3], find(skeletons, key, 0, n, -1), why, flags, uniq, n_uniq)
    return n_uniq


@njit(cache=True, nogil=True)
def _raw_similarity(dist, la, lb):
    """The plain edit similarity at distance ``dist``, rounded to float32 as rapidfuzz's ``cdist`` returns it."""
    longer = max(la, lb)
    return 1.0 if longer == 0 else np.float64(np.float32(1.0 - dist / longer))


@njit(cache=True, nogil=True)
def _lifted(raw, lb, why, is_exact, min_phonetic_len, ceiling, lift, short_similarity):
    """The similarity of a candidate of length ``lb`` tagged ``why`` whose plain edit similarity is ``raw``."""
    sim = raw
    if sim < ceiling and not is_exact:
        if why & CAND_SAME:
            sim = ceiling
        elif why & CAND_SHORT:
            sim = max(sim, short_similarity)
        elif why & CAND_LIFTED and lb >= min_phonetic_len:
            sim = min(ceiling, sim + lift)
    return sim


@njit(cache=True, nogil=True)
def _similarity(q_chars, a0, la, tid, why, exact, tok_chars, tok_ptr, tok_len, min_phonetic_len, ceiling, lift,
                short_similarity, prev2, prev, cur):
    """``(similarity, plain edit similarity)`` of the query token and candidate ``tid`` tagged ``why``.

    The kernels' loops call :func:`_osa_distance` and the scalar helpers themselves: a helper that
    takes arrays and hands them on to another call costs numba reference counting on every call.
    """
    lb = tok_len[tid]
    dist = _osa_distance(q_chars, a0, la, tok_chars, tok_ptr[tid], lb, prev2, prev, cur) if max(la, lb) else 0
    raw = _raw_similarity(dist, la, lb)
    return _lifted(raw, lb, why, tid == exact, min_phonetic_len, ceiling, lift, short_similarity), raw


@njit(cache=True, nogil=True)
def _distance_floor(a, a0, la, b, b0, lb, counts):
    """A lower bound of the optimal-string-alignment distance: the length difference, and half the
    letters the two hold in different numbers (a substitution changes two, an insertion or deletion
    one, a transposition none). ``counts`` (int64, 256, all 0) is scratch, all 0 again on return."""
    for i in range(la):
        counts[a[a0 + i]] += 1
    for j in range(lb):
        counts[b[b0 + j]] -= 1
    unequal = 0
    for i in range(la):
        c = a[a0 + i]
        unequal += abs(counts[c])
        counts[c] = 0
    for j in range(lb):
        c = b[b0 + j]
        unequal += abs(counts[c])
        counts[c] = 0
    return max(abs(la - lb), (unequal + 1) // 2)


@njit(cache=True, nogil=True)
def _similarity_ceiling(la, lb, distance_floor, why, is_exact, min_phonetic_len, ceiling, lift, short_similarity):
    """The most :func:`_similarity` can give a candidate whose distance is at least ``distance_floor``
    (it grows with the plain similarity, whatever the tags)."""
    return _lifted(_raw_similarity(distance_floor, la, lb), lb, why, is_exact, min_phonetic_len, ceiling, lift,
                   short_similarity)


@njit(cache=True, nogil=True)
def _scratch(q_ptr, max_tok_len, n_list_tokens):
    """Work buffers for a batch of query tokens: the longest query token, three edit-distance rows,
    two key buffers and the candidate de-duplication list (room for every list token)."""
    longest = 1
    for q in range(len(q_ptr) - 1):
        longest = max(longest, q_ptr[q + 1] - q_ptr[q])
    width = max(longest, max_tok_len) + 2
    return (longest, np.empty(width, dtype=np.int64), np.empty(width, dtype=np.int64),
            np.empty(width, dtype=np.int64), np.empty(2 * width, dtype=np.uint8),
            np.empty(2 * width, dtype=np.uint8), np.empty(max(n_list_tokens, 1), dtype=np.int32))


@njit(cache=True, nogil=True)
def score_tokens(q_chars, q_ptr, q_abjad, q_exact, deletes, sounds, variants, spellings, skeletons,
                 tok_chars, tok_ptr, tok_len, max_tok_len, limits, floor, ceiling, lift, short_similarity, max_hits,
                 flags):
    """Each query token's similar list tokens: ``(hit_ptr, hit_tok, hit_sim)``, best first per token.

    Query token ``q`` is ``q_chars[q_ptr[q]:q_ptr[q+1]]``, from an Arabic-script name when
    ``q_abjad[q]``; ``q_exact[q]`` is its own list token id (-1 when no list holds it). List
    token ``t`` is ``tok_chars[tok_ptr[t]:tok_ptr[t]+tok_len[t]]``, at most ``max_tok_len`` long.
    ``limits`` are the minimum lengths (token for deletion keys, token for phonetic keys, key,
    skeleton). ``flags`` (uint8, one per list token, all 0) is scratch the caller keeps; it is all 0
    again on return.
    """
    min_phonetic_len = limits[1]
    n_q = len(q_ptr) - 1
    hit_ptr = np.zeros(n_q + 1, dtype=np.int64)
    hit_tok = np.empty(max(n_q * max_hits, 1), dtype=np.int32)
    hit_sim = np.empty(max(n_q * max_hits, 1), dtype=np.float64)
    _, prev2, prev, cur, key, tmp, uniq = _scratch(q_ptr, max_tok_len, len(flags))
    keep_sim = np.empty(len(uniq), dtype=np.float64)  # room for every candidate: never rebound
    keep_raw = np.empty(len(uniq), dtype=np.float64)
    keep_tok = np.empty(len(uniq), dtype=np.int32)
    n_out = 0
    for q in range(n_q):
        a0, la = q_ptr[q], q_ptr[q + 1] - q_ptr[q]
        exact = q_exact[q]
        n_uniq = _gather(q_chars, a0, la, q_abjad[q], exact, deletes, sounds, variants, spellings, skeletons,
                         limits, flags, uniq, key, tmp)
        n_keep = 0
        for u in range(n_uniq):
            tid = uniq[u]
            why = flags[tid]
            flags[tid] = 0
            lb = tok_len[tid]
            raw = _raw_similarity(_osa_distance(q_chars, a0, la, tok_chars, tok_ptr[tid], lb, prev2, prev, cur),
                                  la, lb)
            sim = _lifted(raw, lb, why, tid == exact, min_phonetic_len, ceiling, lift, short_similarity)
            if sim < floor:
                continue
            # Insert in order: by similarity, then raw similarity, then token id, all descending.
            k = n_keep
            while k > 0 and (keep_sim[k - 1] < sim or (keep_sim[k - 1] == sim and (
                    keep_raw[k - 1] < raw or (keep_raw[k - 1] == raw and keep_tok[k - 1] < tid)))):
                keep_sim[k] = keep_sim[k - 1]
                keep_raw[k] = keep_raw[k - 1]
                keep_tok[k] = keep_tok[k - 1]
                k -= 1
            keep_sim[k] = sim
            keep_raw[k] = raw
            keep_tok[k] = tid
            n_keep += 1
        for k in range(min(n_keep, max_hits)):
            hit_tok[n_out] = keep_tok[k]
            hit_sim[n_out] = keep_sim[k]
            n_out += 1
        hit_ptr[q + 1] = n_out
    return hit_ptr, hit_tok[:n_out], hit_sim[:n_out]


@njit(cache=True, nogil=True)
def _token_id(vocab, chars, start, length):
    """The list token id of ``chars[start:start+length]``, or -1."""
    k = find_inline(vocab, chars, start, length, -1)
    return -1 if k < 0 else vocab[3][vocab[2][k]]


@njit(cache=True, nogil=True)
def split_tokens(q_chars, q_ptr, q_abjad, q_search, vocab, deletes, sounds, variants, spellings, skeletons,
                 tok_chars, tok_ptr, tok_len, max_tok_len, limits, floor, ceiling, lift, short_similarity,
                 split_similarity, flags):
    """Per query token, where it splits: ``(list_at, best_at)`` (0: nowhere).

    ``list_at[q]``: the first split (shortest left part) into two list tokens. ``best_at[q]``, only
    searched where ``q_search[q]`` and no list split exists: the split into a list token and a part
    whose closest list token (the best similarity of :func:`score_tokens`, 0 for a part shorter
    than the deletion-key length) reaches ``split_similarity``, with the largest length-weighted
    similarity (the first such on ties). ``vocab`` maps list tokens to their ids; the other
    arguments are :func:`score_tokens`'s.
    """
    min_delete_len, min_phonetic_len = limits[0], limits[1]
    n_q = len(q_ptr) - 1
    list_at = np.zeros(n_q, dtype=np.int64)
    best_at = np.zeros(n_q, dtype=np.int64)
    longest, prev2, prev, cur, key, tmp, uniq = _scratch(q_ptr, max_tok_len, len(flags))
    cand_bound = np.empty(longest, dtype=np.float64)
    cand_at = np.empty(longest, dtype=np.int64)  # k: the left part is a list token; -k: the right one
    counts = np.zeros(256, dtype=np.int64)
    need_floor = max(floor, split_similarity)
    for q in range(n_q):
        a0, la = q_ptr[q], q_ptr[q + 1] - q_ptr[q]
        for k in range(2, la - 1):
            if _token_id(vocab, q_chars, a0, k) >= 0 and _token_id(vocab, q_chars, a0 + k, la - k) >= 0:
                list_at[q] = k
                break
        if list_at[q] or not q_search[q]:
            continue
        # The splits with a list token on one side, most promising first. The other part is no list
        # token (else a list split exists), so its similarity is at most that of one edit in a token
        # one letter longer, or a key's set similarity: a split whose bound is below the best found
        # is not scored.
        n_cand = 0
        for k in range(2, la - 1):
            if _token_id(vocab, q_chars, a0, k) >= 0:
                plen, whole_left = la - k, True
            elif _token_id(vocab, q_chars, a0 + k, la - k) >= 0:
                plen, whole_left = k, False
            else:
                continue
            top = max(ceiling, short_similarity, np.float64(np.float32(1.0 - 1 / (plen + 1))))
            bound = 1.0 * k + top * (la - k) if whole_left else top * k + 1.0 * (la - k)
            c = n_cand
            while c > 0 and cand_bound[c - 1] < bound:
                cand_bound[c] = cand_bound[c - 1]
                cand_at[c] = cand_at[c - 1]
                c -= 1
            cand_bound[c] = bound
            cand_at[c] = k if whole_left else -k
            n_cand += 1
        best_quality = 0.0
        for c in range(n_cand):
            if cand_bound[c] < best_quality:
                break
            k = abs(cand_at[c])
            whole_left = cand_at[c] > 0
            p0, plen = (a0 + k, la - k) if whole_left else (a0, k)
            part_sim = 0.0  # the part's closest list token
            if plen >= min_delete_len:
                exact = _token_id(vocab, q_chars, p0, plen)
                n_uniq = _gather(q_chars, p0, plen, q_abjad[q], exact, deletes, sounds, variants, spellings,
                                 skeletons, limits, flags, uniq, key, tmp)
                for u in range(n_uniq):
                    tid = uniq[u]
                    why = flags[tid]
                    flags[tid] = 0
                    # Only a similarity reaching the split's (and the floor) and beating the part's
                    # best so far matters: a candidate whose distance bound rules that out is skipped.
                    lb = tok_len[tid]
                    top = _similarity_ceiling(plen, lb, _distance_floor(q_chars, p0, plen, tok_chars, tok_ptr[tid], lb,
                                                                        counts),
                                              why, tid == exact, min_phonetic_len, ceiling, lift, short_similarity)
                    if top < need_floor or top <= part_sim:
                        continue
                    dist = _osa_distance(q_chars, p0, plen, tok_chars, tok_ptr[tid], lb, prev2, prev, cur)
                    sim = _lifted(_raw_similarity(dist, plen, lb), lb, why, tid == exact, min_phonetic_len, ceiling,
                                  lift, short_similarity)
                    if sim >= floor and sim > part_sim:
                        part_sim = sim
            if part_sim < split_similarity:
                continue
            quality = 1.0 * k + part_sim * (la - k) if whole_left else part_sim * k + 1.0 * (la - k)
            if quality > best_quality or (quality == best_quality and k < best_at[q]):
                best_quality = quality
                best_at[q] = k
    return list_at, best_at


@njit(cache=True, nogil=True)
def join_pairs(name_ptr, slots, q_chars, q_ptr, vocab, deletes, min_joined_len):
    """Per pair of adjacent tokens of each name, what their joined token is to the lists.

    Name ``n``'s tokens are the query tokens ``slots[name_ptr[n]:name_ptr[n+1]]`` (token ``s`` is
    ``q_chars[q_ptr[s]:q_ptr[s+1]]``). The pair starting at position ``p`` gets ``out[p]``: 2 when
    the joined token is a list token; 1 when it is not but is at most one edit from one (it or a
    deletion is a deletion key), is ``min_joined_len`` letters or more and a list holds not both
    parts; 0 otherwise (and at each name's last position).
    """
    n_slots = len(q_ptr) - 1
    listed = np.zeros(n_slots, dtype=np.bool_)
    longest = 1
    for s in range(n_slots):
        listed[s] = find(vocab, q_chars, q_ptr[s], q_ptr[s + 1] - q_ptr[s], -1) >= 0
        longest = max(longest, q_ptr[s + 1] - q_ptr[s])
    buf = np.empty(2 * longest, dtype=np.uint8)
    out = np.zeros(len(slots), dtype=np.int8)
    for n in range(len(name_ptr) - 1):
        for p in range(name_ptr[n], name_ptr[n + 1] - 1):
            left, right = slots[p], slots[p + 1]
            ll = q_ptr[left + 1] - q_ptr[left]
            lr = q_ptr[right + 1] - q_ptr[right]
            for i in range(ll):
                buf[i] = q_chars[q_ptr[left] + i]
            for i in range(lr):
                buf[ll + i] = q_chars[q_ptr[right] + i]
            size = ll + lr
            if find(vocab, buf, 0, size, -1) >= 0:
                out[p] = 2
            elif size >= min_joined_len and not (listed[left] and listed[right]):
                if find(deletes, buf, 0, size, -1) >= 0:
                    out[p] = 1
                    continue
                for d in range(size):
                    if find(deletes, buf, 0, size, d) >= 0:
                        out[p] = 1
                        break
    return out
