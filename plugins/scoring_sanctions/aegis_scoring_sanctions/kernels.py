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
reached it while the postings were walked and the name's total weight) reaches the floor: most
candidates share one common token with the query and are dropped at that cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Similarity of an initial (``M.``) to a token it begins.
INITIAL_SIMILARITY = 0.9


@njit(cache=True, nogil=True)
def _bound(mask, t0, nq, qt_weight, best_weight, query_weight, name_weight, name_extra_factor):
    """An upper bound of a candidate's score when only the query tokens in ``mask`` can align.

    Without initials on either side (and with ``name_extra_factor`` ≥ 0), a query token aligns only
    to a name token among its hits, so the aligned name weight ``m`` is at most the sum of those
    tokens' heaviest hits (and at most the name's weight), and the score is at most
    ``2m / (2m + unaligned query weight + name_extra_factor × (name weight - m))``.
    """
    aligned = 0.0
    reachable_query = 0.0
    for i in range(nq):
        if (mask >> i) & 1:
            aligned += best_weight[i]
            reachable_query += qt_weight[t0 + i]
    aligned = min(aligned, name_weight)
    rest = query_weight - reachable_query + name_extra_factor * (name_weight - aligned)
    if aligned <= 0.0:
        return 0.0
    return 2.0 * aligned / (2.0 * aligned + max(rest, 0.0))


@njit(cache=True, nogil=True)
def score_queries(qv_ptr, qt_weight, qt_first, qt_len, qt_hit_ptr, hit_tok, hit_sim, qv_skip_kind,
                  name_ptr, name_tok, name_kind, name_weak, post_ptr, post_name, token_weight, token_first,
                  token_len, name_weight, name_initial, skip_a, skip_b, weak_penalty, name_extra_factor, max_postings,
                  floor, top_k, vhead, seen, hit_mask):
    """Score every query variant's candidate names; return the ``top_k`` best (name id, score) per variant.

    ``name_weight`` is each name's summed token weight and ``name_initial`` whether it holds an
    initial. ``vhead`` (int32, one per list token, all -1), ``seen`` (int32, one per name) and
    ``hit_mask`` (int64, one per name: which query tokens reached it) are scratch arrays the caller
    keeps between calls, any values but ``vhead``'s; ``vhead`` is restored to -1 on return.
    """
    seen[:] = 0
    longest = 1
    for q in range(len(qv_ptr) - 1):
        longest = max(longest, qv_ptr[q + 1] - qv_ptr[q])
    best_weight = np.zeros(longest, dtype=np.float64)  # per query token: heaviest list token it hits
    n_queries = len(qv_ptr) - 1
    out_name = np.full((n_queries, top_k), -1, dtype=np.int32)
    out_score = np.zeros((n_queries, top_k), dtype=np.float64)
    n_hits_total = len(hit_tok)
    vnext = np.full(max(n_hits_total, 1), -1, dtype=np.int32)
    hit_query_token = np.empty(max(n_hits_total, 1), dtype=np.int32)
    candidates = np.empty(1024, dtype=np.int32)
    stamp = 0
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
        for t in range(t0, t1):
            size = 0
            heaviest = 0.0
            for h in range(qt_hit_ptr[t], qt_hit_ptr[t + 1]):
                v = hit_tok[h]
                hit_query_token[h] = t - t0
                vnext[h] = vhead[v]
                vhead[v] = h
                size += post_ptr[v + 1] - post_ptr[v]
                heaviest = max(heaviest, token_weight[v])
            best_weight[t - t0] = heaviest
            if 0 < size <= max_postings:
                any_rare = True
        n_cand = 0
        unseen_mask = 0  # query tokens whose postings are not walked: they may reach any candidate
        for t in range(t0, t1):
            h0, h1 = qt_hit_ptr[t], qt_hit_ptr[t + 1]
            bit = np.int64(1) << np.int64(t - t0)
            size = 0
            for h in range(h0, h1):
                v = hit_tok[h]
                size += post_ptr[v + 1] - post_ptr[v]
            if any_rare and size > max_postings:
                unseen_mask |= bit
                continue
            for h in range(h0, h1):
                v = hit_tok[h]
                for p in range(post_ptr[v], post_ptr[v + 1]):
                    n = post_name[p]
                    if seen[n] == stamp:
                        hit_mask[n] |= bit
                        continue
                    seen[n] = stamp
                    hit_mask[n] = bit
                    if qv_skip_kind[q] and (name_kind[n] == skip_a or name_kind[n] == skip_b):
                        continue
                    if n_cand == len(candidates):
                        grown = np.empty(2 * len(candidates), dtype=np.int32)
                        grown[:n_cand] = candidates[:n_cand]
                        candidates = grown
                    candidates[n_cand] = n
                    n_cand += 1
        query_weight = 0.0
        query_initials = False
        for t in range(t0, t1):
            query_weight += qt_weight[t]
            if qt_len[t] == 1:
                query_initials = True
        prune = not query_initials and name_extra_factor >= 0.0
        for c in range(n_cand):
            n = candidates[c]
            if prune and not name_initial[n] and _bound(
                    hit_mask[n] | unseen_mask, t0, nq, qt_weight, best_weight, query_weight, name_weight[n],
                    name_extra_factor) < floor - 1e-9:
                continue  # cannot reach the floor, whatever the alignment
            s0, s1 = name_ptr[n], name_ptr[n + 1]
            nt = s1 - s0
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
            # Keep the top_k best, replacing the worst.
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
