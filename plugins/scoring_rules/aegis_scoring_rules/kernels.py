"""The numba kernels: VELOCITY and AMOUNT in one pass over a batch in order, GEO by table lookup.

Per-account state lives in record arrays indexed by the dense debtor account id (see
:mod:`aegis_scoring_rules.state`); the account kernel reads a payment's state, scores it, then
folds the payment in, so later payments of the same batch see the earlier ones.
:func:`score_kernel` runs both: Python makes one numba call per batch, as dispatching a call
(about 50 ns per argument) is much of what a batch of one costs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _ramp(value: float, start: float, full: float) -> float:
    """0 at or below ``start``, 1 at or above ``full``, linear in between."""
    if value <= start:
        return 0.0
    if value >= full:
        return 1.0
    return (value - start) / (full - start)


@njit(cache=True, nogil=True)
def account_kernel(account, created_at_ns, amount, accounts, ring,
                   window_ns, max_count, max_sum, ramp_from,
                   min_history, z_start, z_full, min_std, large_amount,
                   velocity, window, count, total, amount_score, z, seen, typical):
    """Score VELOCITY and AMOUNT, then fold each payment into its account's state.

    Both factors run in one pass so an account's state (``accounts[a]``, one 40-byte record, and
    ``ring[a]``, its payments newest at ``head - 1``) is fetched from memory once per payment:
    with many accounts those cache misses, not arithmetic, set the speed.

    VELOCITY counts and sums this payment and the ring's payments younger than each window.
    A payment earlier than its account's latest is placed at that latest time, so the ring stays
    in time order and back-dating cannot move a payment out of a window. ``max_count``/``max_sum``
    are ``inf`` where a window has no such limit. Outputs: the score, the index of the window that
    gave it, and that window's count and sum.

    AMOUNT compares log(amount) with the account's running mean and variance (Welford) before
    this payment: only with at least ``min_history`` earlier payments and only upwards (z > 0).
    At or above ``large_amount`` (``inf`` when off) it scores 1 whatever the history. Outputs: the
    score, the z-score (NaN when not scored), the earlier payments and their geometric mean.
    """
    n = account.shape[0]
    n_windows = window_ns.shape[0]
    ring_size = ring.shape[1]
    longest = window_ns.max()
    counts = np.empty(n_windows, dtype=np.int64)
    sums = np.empty(n_windows, dtype=np.float64)
    for i in range(n):
        a = account[i]
        x = amount[i]
        state = accounts[a]
        events = ring[a]
        fill = state.fill
        head = state.head
        t = created_at_ns[i]
        newest = head - 1 if head > 0 else ring_size - 1
        if fill > 0 and t < events[newest].ts:
            t = events[newest].ts

        # VELOCITY
        for w in range(n_windows):
            counts[w] = 1
            sums[w] = x
        slot = newest
        for _ in range(fill):
            age = t - events[slot].ts
            if age >= longest:
                break
            paid = events[slot].amount
            for w in range(n_windows):
                if age < window_ns[w]:
                    counts[w] += 1
                    sums[w] += paid
            slot = slot - 1 if slot > 0 else ring_size - 1
        best = 0.0
        best_w = 0
        for w in range(n_windows):
            s = _ramp(max(counts[w] / max_count[w], sums[w] / max_sum[w]), ramp_from, 1.0)
            if s > best:
                best = s
                best_w = w
        velocity[i] = best
        window[i] = best_w
        count[i] = counts[best_w]
        total[i] = sums[best_w]
        events[head].ts = t
        events[head].amount = x
        state.head = head + 1 if head + 1 < ring_size else 0
        if fill < ring_size:
            state.fill = fill + 1

        # AMOUNT
        k = state.history
        seen[i] = k
        z[i] = np.nan
        typical[i] = np.nan
        if not (x > 0.0 and math.isfinite(x)):
            amount_score[i] = 0.0
            continue
        v = math.log(x)
        mean = state.mean
        s = 0.0
        if k >= min_history:
            std = math.sqrt(state.m2 / (k - 1))
            if std < min_std:
                std = min_std
            zi = (v - mean) / std
            z[i] = zi
            s = _ramp(zi, z_start, z_full)
        if k > 0:
            typical[i] = math.exp(mean)
        if x >= large_amount:
            s = 1.0
        amount_score[i] = s
        k += 1
        delta = v - mean
        mean += delta / k
        state.mean = mean
        state.m2 += delta * (v - mean)
        state.history = k


@njit(cache=True, nogil=True)
def geo_kernel(debtor_country, creditor_country, table, score):
    """GEO: the higher FATF score of the debtor's and the creditor's country (``-1``: absent)."""
    n = debtor_country.shape[0]
    size = table.shape[0]
    for i in range(n):
        s = 0.0
        d = debtor_country[i]
        c = creditor_country[i]
        if 0 <= d < size:
            s = table[d]
        if 0 <= c < size and table[c] > s:
            s = table[c]
        score[i] = s


@njit(cache=True, nogil=True)
def score_kernel(account, created_at_ns, amount, debtor_country, creditor_country, accounts, ring,
                 window_ns, max_count, max_sum, ramp_from, min_history, z_start, z_full, min_std, large_amount,
                 geo_table, velocity, window, count, total, amount_score, z, seen, typical, geo):
    """Check that every account id has state, then run :func:`account_kernel` and :func:`geo_kernel`.

    Returns the lowest and the highest account id (``0, -1`` for an empty batch). Unless every id
    lies in ``[0, len(accounts))`` nothing is scored and the state is left untouched, so the caller
    can refuse the batch or grow the state and call again.
    """
    low, high = 0, -1
    if account.shape[0]:
        low = high = account[0]
        for a in account:
            low = min(low, a)
            high = max(high, a)
    if low < 0 or high >= accounts.shape[0]:
        return low, high
    account_kernel(account, created_at_ns, amount, accounts, ring, window_ns, max_count, max_sum, ramp_from,
                   min_history, z_start, z_full, min_std, large_amount,
                   velocity, window, count, total, amount_score, z, seen, typical)
    geo_kernel(debtor_country, creditor_country, geo_table, geo)
    return low, high
