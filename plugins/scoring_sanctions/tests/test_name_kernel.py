"""The name-scoring kernel against a plain Python reference that walks every posting and prunes nothing.

The kernel skips the postings of query tokens that cannot bring a name to the floor and prunes
candidates by an upper bound of their score; neither may change a single result, ties included.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from aegis_scoring_sanctions import matcher as matcher_module
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.kernels import _TABLE_TOKENS, INITIAL_SIMILARITY, _bound, _bound_of, _mask_sums
from aegis_scoring_sanctions.matcher import MatchSettings, Query, Screener
from aegis_scoring_sanctions.perturb import perturb


def _reference(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~aegis_scoring_sanctions.kernels.score_queries` by its definition (same arguments)."""
    (qv_ptr, qt_weight, qt_first, qt_len, qt_hit_ptr, hit_tok, hit_sim, qv_skip_kind, name_ptr, name_tok, name_kind,
     name_weak, post_ptr, post_name, _init_ptr, _init_name, token_weight, token_first, token_len, _name_weight,
     _name_initial, skip_a, skip_b, weak_penalty, extra_factor, max_postings, floor, top_k) = args[:28]
    n_queries = len(qv_ptr) - 1
    out_name = np.full((n_queries, top_k), -1, dtype=np.int32)
    out_score = np.zeros((n_queries, top_k))
    for q in range(n_queries):
        t0, t1 = int(qv_ptr[q]), int(qv_ptr[q + 1])
        hits = [range(int(qt_hit_ptr[t]), int(qt_hit_ptr[t + 1])) for t in range(t0, t1)]
        sizes = [sum(int(post_ptr[hit_tok[h] + 1] - post_ptr[hit_tok[h]]) for h in hs) for hs in hits]
        any_rare = any(0 < size <= max_postings for size in sizes)
        found: dict[int, None] = {}  # names in the order the postings walk finds them
        for hs, size in zip(hits, sizes, strict=True):
            if not (any_rare and size > max_postings):
                for h in hs:
                    v = hit_tok[h]
                    found.update(dict.fromkeys(post_name[post_ptr[v]:post_ptr[v + 1]].tolist()))
        query_weight = 0.0
        for t in range(t0, t1):  # summed in the kernel's order: scores must agree to the last bit
            query_weight += qt_weight[t]
        query_initials = bool((qt_len[t0:t1] == 1).any())
        for n in found:
            if qv_skip_kind[q] and name_kind[n] in (skip_a, skip_b):
                continue
            toks = name_tok[name_ptr[n]:name_ptr[n + 1]].tolist()
            pairs = []  # (similarity, query token, name token) in the kernel's order
            for j, v in enumerate(toks):
                chain = sorted(((h, i) for i, hs in enumerate(hits) for h in hs if hit_tok[h] == v), reverse=True)
                pairs += [(float(hit_sim[h]), i, j) for h, i in chain]
                if query_initials or token_len[v] == 1:
                    for i in range(t1 - t0):
                        ql, qf = qt_len[t0 + i], qt_first[t0 + i]
                        if (ql == 1 and token_first[v] == qf and token_len[v] > 1) or \
                                (token_len[v] == 1 and ql > 1 and token_first[v] == qf):
                            pairs.append((INITIAL_SIMILARITY, i, j))
            pairs = pairs[:256]
            used_q, used_n, num, den, matched = set(), set(), 0.0, 0.0, 0.0
            for _ in range(min(t1 - t0, len(toks))):
                best = None
                for sim, i, j in pairs:
                    if sim > (best[0] if best else 0.0) and i not in used_q and j not in used_n:
                        best = (sim, i, j)
                if best is None:
                    break
                sim, i, j = best
                used_q.add(i)
                used_n.add(j)
                wn = token_weight[toks[j]]
                wq = qt_weight[t0 + i] if qt_len[t0 + i] == 1 else wn
                num += sim * (wq + wn)
                den += wq + wn
                matched += qt_weight[t0 + i]
            if num == 0.0:
                continue
            den += query_weight - matched
            for j, v in enumerate(toks):
                if j not in used_n:
                    den += extra_factor * token_weight[v]
            score = num / den * (1.0 - weak_penalty if name_weak[n] else 1.0)
            if score < floor:
                continue
            worst = int(np.argmin(out_score[q]))
            if score > out_score[q, worst]:
                out_score[q, worst] = score
                out_name[q, worst] = n
    return out_name, out_score


def _queries(index: NameIndex) -> list[Query]:
    """Listed names (perturbed, some with initials), unlisted names, persons and not."""
    rng = random.Random(11)
    listed = [index.name_text(n) for n in rng.sample(range(index.n_names), 60)]
    perturbed = [perturb(name, rng, max_ops=2)[0] for name in listed[:40]]
    initials = [f"{name.split()[0][0]}. {' '.join(name.split()[1:])}" for name in listed[40:50] if " " in name]
    unlisted = ["John Smith", "Maria Garcia Lopez", "Mohammed Ali", "Abdul Rahman Al Said", "Kim Jong", "Ahmad",
                "Li Wei", "Olena Kovalenko", "abdulrahman", "al qaida network"]
    names = listed + perturbed + initials + unlisted
    return [Query(name, person=i % 2 == 0) for i, name in enumerate(names)]


@pytest.mark.parametrize("max_postings", [1500, 40])
def test_name_scores_equal_the_unpruned_reference(index: NameIndex, monkeypatch, max_postings):
    screener = Screener(index, MatchSettings(max_postings=max_postings), cache_size=0)
    calls = []
    kernel = matcher_module.score_queries

    def recording(*args):
        out = kernel(*args)
        calls.append((args, out))
        return out

    monkeypatch.setattr(matcher_module, "score_queries", recording)
    screener.screen(_queries(index))
    (args, (names, scores)), = calls
    assert (names >= 0).sum() > 100  # the queries do find names
    ref_names, ref_scores = _reference(args)
    np.testing.assert_array_equal(names, ref_names)
    np.testing.assert_array_equal(scores, ref_scores)


def test_tabulated_bounds_equal_the_bound_of_every_mask_to_the_bit():
    """The per-mask sums the kernel tabulates give :func:`_bound` exactly, for every mask of up to ten tokens."""
    rng = np.random.default_rng(7)
    aligned_of = np.empty(1 << _TABLE_TOKENS)
    reach_of = np.empty(1 << _TABLE_TOKENS)
    checked = 0
    for nq in range(_TABLE_TOKENS + 1):
        t0 = int(rng.integers(0, 3))
        qt_weight = rng.uniform(0.05, 3.0, t0 + nq)
        best_weight = rng.uniform(0.0, 3.0, nq) * (rng.random(nq) > 0.2)  # some tokens hit nothing
        query_weight = float(qt_weight[t0:].sum())
        _mask_sums(t0, nq, qt_weight, best_weight, aligned_of, reach_of)
        for mask in range(1 << nq):
            for name_weight, factor in ((float(rng.uniform(0.1, 8.0)), 0.6), (0.5, 0.0), (12.0, 1.0)):
                expected = _bound(mask, t0, nq, qt_weight, best_weight, query_weight, name_weight, factor)
                got = _bound_of(aligned_of[mask], reach_of[mask], query_weight, name_weight, factor)
                assert got == expected, (nq, mask)
                checked += 1
    assert checked > 3 * 2000


def _greedy_score(pairs: list[tuple[float, int, int]], qt_weight: np.ndarray, name_weight: list[float],
                  extra_factor: float) -> float:
    """A name's score by the kernel's definition (no initials): greedy one-to-one alignment, weighted Dice."""
    used_q, used_n, num, den, matched = set(), set(), 0.0, 0.0, 0.0
    for sim, i, j in sorted(pairs, reverse=True):
        if i not in used_q and j not in used_n:
            used_q.add(i)
            used_n.add(j)
            num += sim * 2 * name_weight[j]
            den += 2 * name_weight[j]
            matched += qt_weight[i]
    den += qt_weight.sum() - matched + extra_factor * sum(w for j, w in enumerate(name_weight) if j not in used_n)
    return num / den


def test_bound_is_above_every_score_it_prunes():
    """:func:`_bound` from each query token's largest similarity × weight among its hits (``best_gain``) is at
    least the score of any name those tokens hit (the kernel scales both alike for a weak alias)."""
    rng = random.Random(3)
    tight = 0
    for _ in range(4000):
        nq, nt = rng.randint(1, 6), rng.randint(1, 6)
        qt_weight = np.array([rng.uniform(0.05, 3.0) for _ in range(nq)])
        name_weight = [rng.uniform(0.05, 3.0) for _ in range(nt)]
        pairs = [(rng.uniform(0.72, 1.0), i, j) for i in range(nq) for j in range(nt) if rng.random() < 0.4]
        elsewhere = [[rng.uniform(0.72, 1.0) * rng.uniform(0.05, 3.0) for _ in range(rng.randint(0, 2))]
                     for _ in range(nq)]  # hits of list tokens the name does not hold
        best_gain = np.array([max([sim * name_weight[j] for sim, q, j in pairs if q == i] + elsewhere[i] + [0.0])
                              for i in range(nq)])
        mask = sum(1 << i for i in {i for _, i, _ in pairs})
        for extra_factor in (0.0, 0.6, 1.0):
            score = _greedy_score(pairs, qt_weight, name_weight, extra_factor) if pairs else 0.0
            bound = _bound(mask, 0, nq, qt_weight, best_gain, float(qt_weight.sum()), sum(name_weight), extra_factor)
            assert bound >= score - 1e-12
            heaviest = np.array([max([name_weight[j] for _, q, j in pairs if q == i] + [0.0]) for i in range(nq)])
            tight += bound < _bound(mask, 0, nq, qt_weight, heaviest, float(qt_weight.sum()), sum(name_weight),
                                    extra_factor) - 1e-9
    assert tight > 1000  # the similarities tighten the bound of the heaviest hits' weights
