"""The numba kernel that gathers candidate names for a batch of queries and scores them.

For each query (a list of tokens, each with its similar list tokens from
:class:`~aegis_scoring_sanctions.token_match.TokenMatcher`), the candidates are the names in the
postings of those list tokens (tokens whose postings are huge — ``mohammad``, ``al`` — only add
candidates when the query has nothing rarer). Each candidate name is scored by aligning query
tokens to name tokens one-to-one (greedy on similarity; an initial matches a token it begins) and
taking the weighted Dice of the alignment: matched pairs count their similarity times the evidence
weight of both tokens, unmatched tokens on either side count against the score (a listed name's
extra tokens — a patronymic, a second given name — at ``name_extra_factor`` of their weight). The score is
therefore independent of token order and falls with every missing or extra informative token.

A candidate is scored only if an upper bound of its score (:func:`_bound`, from which query tokens
hit one of its tokens, each one's best similarity × weight among its hits, the name's total weight
and, for a weak alias, its penalty) reaches the floor: most candidates share one
common token with the query and are dropped at that cost. The postings of query tokens that cannot
bring any name to the floor by themselves are not walked at all (:func:`_skippable`); the result
is the same as walking them, ties included.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Similarity of an initial (``M.``) to a token it begins.
INITIAL_SIMILARITY = 0.9
#: Variants with at most this many tokens may get :func:`_bound`'s sums tabulated for every mask.
_TABLE_TOKENS = 10


@njit(cache=True, nogil=True)
def _bound(mask, t0, nq, qt_weight, best_gain, query_weight, name_weight, name_extra_factor):
    """An upper bound of a candidate's score when only the query tokens in ``mask`` can align.

    Without initials on either side (and with ``name_extra_factor`` ≥ 0), a query token aligns only
    to a name token among its hits, adding ``2 s w`` to the score's numerator and at least
    ``(2 - name_extra_factor) s w`` to its denominator (``s`` the hit's similarity, ``w`` its weight).
    So with ``m`` the sum of those tokens' largest ``s w`` (``best_gain``; at most the name's
    weight), the score is at most
    ``2m / (2m + unaligned query weight + name_extra_factor × (name weight - m))``.
    """
    aligned = 0.0
    reachable_query = 0.0
    for i in range(nq):
        if (mask >> i) & 1:
            aligned += best_gain[i]
            reachable_query += qt_weight[t0 + i]
    return _bound_of(aligned, reachable_query, query_weight, name_weight, name_extra_factor)


@njit(cache=True, nogil=True)
def _bound_of(aligned, reachable_query, query_weight, name_weight, name_extra_factor):
    """:func:`_bound` from its two sums: the tokens' largest similarity × weight (``best_gain``) and their
    query weight."""
    aligned = min(aligned, name_weight)
    rest = query_weight - reachable_query + name_extra_factor * (name_weight - aligned)
    if aligned <= 0.0:
        return 0.0
    return 2.0 * aligned / (2.0 * aligned + max(rest, 0.0))


@njit(cache=True, nogil=True)
def _mask_sums(t0, nq, qt_weight, best_gain, aligned_of, reach_of):
    """For every mask ``m`` of the ``nq`` query tokens, the two sums :func:`_bound` takes, in ``aligned_of[m]``
    and ``reach_of[m]`` (added token by token in the same order, so the bounds are the same to the bit)."""
    aligned_of[0] = 0.0
    reach_of[0] = 0.0
    top = 0
    for m in range(1, 1 << nq):
        if m == 2 << top:
            top += 1
        rest = m ^ (1 << top)
        aligned_of[m] = aligned_of[rest] + best_gain[top]
        reach_of[m] = reach_of[rest] + qt_weight[t0 + top]


@njit(cache=True, nogil=True)
def _skippable(state, t0, nq, qt_weight, best_gain, query_weight, size, floor):
    """Mark (state 2) the query tokens whose postings need not be walked; ``state`` 1 is not walked already.

    A name reached only through tokens of the marked set ``S`` (and those of state 1) scores at most
    ``2w / (2w + query weight outside S)``, ``w`` the sum of their largest ``s w`` (the
    :func:`_bound` of any such name, at its largest). Tokens are added largest postings first while
    that stays below ``floor``; such names are then pruned by :func:`_bound` anyway, so they need not
    be found.
    """
    aligned = 0.0
    reached = 0.0
    for i in range(nq):
        if state[i] == 1:
            aligned += best_gain[i]
            reached += qt_weight[t0 + i]
    while True:  # one exit (a helper taking arrays with several costs numba reference counting per call)
        pick = -1
        for i in range(nq):
            if state[i] == 0 and size[i] > 0 and (pick < 0 or size[i] > size[pick]):
                pick = i
        if pick < 0:
            break
        a = aligned + best_gain[pick]
        rest = max(query_weight - reached - qt_weight[t0 + pick], 0.0)
        if a > 0.0 and 2.0 * a / (2.0 * a + rest) >= floor - 1e-6:
            break
        state[pick] = 2
        aligned = a
        reached += qt_weight[t0 + pick]


@njit(cache=True, nogil=True)
def _hit_tokens(n, name_ptr, name_tok, vhead, vnext, hit_query_token):
    """Bit mask of the query tokens that have a hit among name ``n``'s tokens (through the hit chains)."""
    mask = np.int64(0)
    for j in range(name_ptr[n], name_ptr[n + 1]):
        h = vhead[name_tok[j]]
        while h != -1:
            mask |= np.int64(1) << np.int64(hit_query_token[h])
            h = vnext[h]
    return mask


@njit(cache=True, nogil=True)
def _first_hit(n, name_ptr, name_tok, vhead, vnext, hit_query_token, state, none):
    """The first hit (in walking order) of a query token not too common (``state`` ≠ 1) that reaches name ``n``.

    Walking every such token's postings finds name ``n`` there first; ``none`` if there is no such hit.
    """
    first = none
    for j in range(name_ptr[n], name_ptr[n + 1]):
        h = vhead[name_tok[j]]
        while h != -1:
            if state[hit_query_token[h]] != 1 and h < first:
                first = h
            h = vnext[h]
    return first


@njit(cache=True, nogil=True)
def _sort_found(order, score, n):
    """Sort the first ``n`` of ``order`` ascending (insertion sort: a handful), ``score`` alongside."""
    for i in range(1, n):
        key, value = order[i], score[i]
        k = i
        while k > 0 and order[k - 1] > key:
            order[k] = order[k - 1]
            score[k] = score[k - 1]
            k -= 1
        order[k] = key
        score[k] = value


@njit(cache=True, nogil=True)
def score_queries(qv_ptr, qt_weight, qt_first, qt_len, qt_hit_ptr, hit_tok, hit_sim, qv_skip_kind,
                  name_ptr, name_tok, name_kind, name_weak, post_ptr, post_name, init_ptr, init_name, token_weight,
                  token_first, token_len, name_weight, name_initial, skip_a, skip_b, weak_penalty, name_extra_factor,
                  max_postings, floor, top_k, vhead, seen, hit_mask):
    """Score every query variant's candidate names; return the ``top_k`` best (name id, score) per variant.

    ``name_weight`` is each name's summed token weight and ``name_initial`` whether it holds an
    initial; ``init_name[init_ptr[t]:init_ptr[t+1]]`` are the names holding list token ``t`` that
    also hold an initial. ``vhead`` (int32, one per list token, all -1), ``seen`` (int32, one per
    name) and ``hit_mask`` (int64, one per name: which walked query tokens reached it) are scratch
    arrays the caller keeps between calls, any values but ``vhead``'s; ``vhead`` is restored to -1
    on return.

    The candidates are the names in the postings of the query tokens' hits, except that a token
    whose hits' postings are huge is left out when the query has a rarer one (``max_postings``).
    Of the other tokens, those that cannot bring a name to the floor by themselves
    (:func:`_skippable`) are not walked either (but for names holding an initial, which the bound
    does not cover). Candidates reaching the floor enter the top ``k`` in the order the full walk
    of postings would have found them (by first hit, then name id), so ties resolve alike.
    """
    seen[:] = 0
    longest = 1
    for q in range(len(qv_ptr) - 1):
        longest = max(longest, qv_ptr[q + 1] - qv_ptr[q])
    best_gain = np.zeros(longest, dtype=np.float64)  # per query token: largest similarity × weight of a hit
    size = np.zeros(longest, dtype=np.int64)  # per query token: postings of its hits
    state = np.zeros(longest, dtype=np.int8)  # per query token: 0 walked, 1 too common, 2 cannot reach the floor
    n_queries = len(qv_ptr) - 1
    out_name = np.full((n_queries, top_k), -1, dtype=np.int32)
    out_score = np.zeros((n_queries, top_k), dtype=np.float64)
    n_hits_total = len(hit_tok)
    vnext = np.full(max(n_hits_total, 1), -1, dtype=np.int32)
    hit_query_token = np.empty(max(n_hits_total, 1), dtype=np.int32)
    # Room for every name (a name is a candidate once per variant): these arrays are never rebound,
    # since a rebound array costs numba reference counting on every use in the loops.
    n_names = len(name_ptr) - 1
    candidates = np.empty(max(n_names, 1), dtype=np.int32)
    found_order = np.empty(max(n_names, 1), dtype=np.int64)  # per candidate reaching the floor: first hit, name
    found_score = np.empty(max(n_names, 1), dtype=np.float64)
    stamp = 0
    weak_factor = max(1.0 - weak_penalty, 0.0)  # a weak alias's score is scaled by it: so is its bound
    aligned_of = np.empty(1 << _TABLE_TOKENS, dtype=np.float64)  # per mask of query tokens: _bound's sums
    reach_of = np.empty(1 << _TABLE_TOKENS, dtype=np.float64)
    pair_sim = np.empty(256, dtype=np.float64)
    pair_q = np.empty(256, dtype=np.int32)
    pair_n = np.empty(256, dtype=np.int32)
    for q in range(n_queries):
        stamp += 1
        t0, t1 = qv_ptr[q], qv_ptr[q + 1]
        nq = t1 - t0
        if nq == 0:
            continue
        # Chain each query token's hits by list token, and decide which tokens generate candidates.
        any_rare = False
        query_weight = 0.0
        query_initials = False
        for t in range(t0, t1):
            total = 0
            gain = 0.0
            for h in range(qt_hit_ptr[t], qt_hit_ptr[t + 1]):
                v = hit_tok[h]
                hit_query_token[h] = t - t0
                vnext[h] = vhead[v]
                vhead[v] = h
                total += post_ptr[v + 1] - post_ptr[v]
                gain = max(gain, hit_sim[h] * token_weight[v])
            best_gain[t - t0] = gain
            size[t - t0] = total
            if 0 < total <= max_postings:
                any_rare = True
            query_weight += qt_weight[t]
            if qt_len[t] == 1:
                query_initials = True
        for i in range(nq):
            state[i] = 1 if any_rare and size[i] > max_postings else 0
        prune = not query_initials and name_extra_factor >= 0.0
        if prune:
            _skippable(state, t0, nq, qt_weight, best_gain, query_weight, size, floor)
        n_cand = 0
        unseen_mask = 0  # query tokens whose postings are not walked: they may reach any candidate
        for t in range(t0, t1):
            walk = state[t - t0]
            bit = np.int64(1) << np.int64(t - t0)
            if walk != 0:
                unseen_mask |= bit
            if walk == 1:
                continue
            # Add the names of the hits' postings (those holding an initial only, for a token of state 2)
            # to the candidates; a name already seen for this variant only gets this token's bit in
            # hit_mask. Written out here: a helper taking these arrays costs numba reference counting
            # on each of its million calls.
            skip_kind = qv_skip_kind[q]
            for h in range(qt_hit_ptr[t], qt_hit_ptr[t + 1]):
                v = hit_tok[h]
                start, end = (post_ptr[v], post_ptr[v + 1]) if walk == 0 else (init_ptr[v], init_ptr[v + 1])
                for p in range(start, end):
                    n = post_name[p] if walk == 0 else init_name[p]
                    if seen[n] == stamp:
                        hit_mask[n] |= bit
                        continue
                    seen[n] = stamp
                    hit_mask[n] = bit
                    if skip_kind and (name_kind[n] == skip_a or name_kind[n] == skip_b):
                        continue  # a kind the variant skips: not a candidate
                    candidates[n_cand] = n
                    n_cand += 1
        # With few tokens and many candidates, the bound's sums are tabulated per mask once.
        tabulated = prune and nq <= _TABLE_TOKENS and (1 << nq) <= 2 * n_cand
        if tabulated:
            _mask_sums(t0, nq, qt_weight, best_gain, aligned_of, reach_of)
        n_found = 0
        for c in range(n_cand):
            n = candidates[c]
            s0, s1 = name_ptr[n], name_ptr[n + 1]
            nt = s1 - s0
            if prune and not name_initial[n]:
                scale = weak_factor if name_weak[n] else 1.0
                mask = hit_mask[n] | unseen_mask
                if tabulated:
                    bound = _bound_of(aligned_of[mask], reach_of[mask], query_weight, name_weight[n], name_extra_factor)
                else:
                    bound = _bound(mask, t0, nq, qt_weight, best_gain, query_weight, name_weight[n],
                                   name_extra_factor)
                if bound * scale < floor - 1e-9:
                    continue  # cannot reach the floor, whatever the alignment
                if mask & ~hit_mask[n]:
                    hit = _hit_tokens(n, name_ptr, name_tok, vhead, vnext, hit_query_token)
                    if tabulated:
                        bound = _bound_of(aligned_of[hit], reach_of[hit], query_weight, name_weight[n],
                                          name_extra_factor)
                    else:
                        bound = _bound(hit, t0, nq, qt_weight, best_gain, query_weight, name_weight[n],
                                       name_extra_factor)
                    if bound * scale < floor - 1e-9:
                        continue  # the same, knowing which of the tokens not walked hit the name
            n_pairs = 0
            for j in range(nt):
                v = name_tok[s0 + j]
                h = vhead[v]
                while h != -1 and n_pairs < 256:
                    pair_sim[n_pairs] = hit_sim[h]
                    pair_q[n_pairs] = hit_query_token[h]
                    pair_n[n_pairs] = j
                    n_pairs += 1
                    h = vnext[h]
                if not query_initials and token_len[v] > 1:
                    continue  # no initial on either side
                for i in range(nq):  # initials, either side
                    if n_pairs >= 256:
                        break
                    if (qt_len[t0 + i] == 1 and token_first[v] == qt_first[t0 + i] and token_len[v] > 1) or \
                            (token_len[v] == 1 and qt_len[t0 + i] > 1 and token_first[v] == qt_first[t0 + i]):
                        pair_sim[n_pairs] = INITIAL_SIMILARITY
                        pair_q[n_pairs] = i
                        pair_n[n_pairs] = j
                        n_pairs += 1
            # Greedy one-to-one alignment on similarity.
            used_q = 0
            used_n = 0
            num = 0.0
            den = 0.0
            matched_query_weight = 0.0
            for _ in range(min(nq, nt)):
                best = -1
                best_sim = 0.0
                for p in range(n_pairs):
                    if pair_sim[p] > best_sim and not (used_q >> pair_q[p]) & 1 and not (used_n >> pair_n[p]) & 1:
                        best = p
                        best_sim = pair_sim[p]
                if best < 0:
                    break
                i = pair_q[best]
                j = pair_n[best]
                used_q |= 1 << i
                used_n |= 1 << j
                wn = token_weight[name_tok[s0 + j]]
                wq = qt_weight[t0 + i] if qt_len[t0 + i] == 1 else wn
                num += best_sim * (wq + wn)
                den += wq + wn
                matched_query_weight += qt_weight[t0 + i]
            if num == 0.0:
                continue
            den += query_weight - matched_query_weight
            for j in range(nt):
                if not (used_n >> j) & 1:
                    den += name_extra_factor * token_weight[name_tok[s0 + j]]
            score = num / den
            if name_weak[n]:
                score *= 1.0 - weak_penalty
            if score < floor:
                continue
            first_hit = _first_hit(n, name_ptr, name_tok, vhead, vnext, hit_query_token, state, n_hits_total)
            found_order[n_found] = np.int64(first_hit) * (n_names + 1) + n
            found_score[n_found] = score
            n_found += 1
        # Keep the top_k best in the order the names were found, replacing the worst.
        _sort_found(found_order, found_score, n_found)
        for f in range(n_found):
            n = found_order[f] % (n_names + 1)
            score = found_score[f]
            worst = 0
            for k in range(1, top_k):
                if out_score[q, k] < out_score[q, worst]:
                    worst = k
            if score > out_score[q, worst]:
                out_score[q, worst] = score
                out_name[q, worst] = n
        for t in range(t0, t1):
            for h in range(qt_hit_ptr[t], qt_hit_ptr[t + 1]):
                vhead[hit_tok[h]] = -1
    return out_name, out_score
