"""The numba kernels: one pass over a batch's columns per factor, in transaction order.

Per-account state lives in arrays indexed by the dense debtor account id (see
:mod:`aegis_scoring_rules.state`); the kernels read a transaction's state, score it, then fold
the transaction in, so later transactions of the same batch see the earlier ones.
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
def velocity_kernel(account, created_at_ns, amount,
                    ring_ts, ring_amount, ring_head, ring_fill,
                    window_ns, max_count, max_sum, ramp_from,
                    score, window, count, total):
    """Score VELOCITY and append each payment to its account's ring of recent payments.

    ``ring_ts``/``ring_amount`` are (accounts, ring_size); ``ring_head`` is the slot the next
    payment goes to and ``ring_fill`` how many slots hold payments. A payment whose time is
    earlier than its account's latest is placed at that latest time, so the ring stays in time
    order and back-dating cannot move a payment out of a window. ``max_count``/``max_sum`` are
    ``inf`` where a window has no such limit. Outputs per transaction: the score, the index of
    the window that gave it, and that window's count and sum (this payment included).
    """
    n = account.shape[0]
    n_windows = window_ns.shape[0]
    ring_size = ring_ts.shape[1]
    longest = window_ns.max()
    counts = np.empty(n_windows, dtype=np.int64)
    sums = np.empty(n_windows, dtype=np.float64)
    for i in range(n):
        a = account[i]
        x = amount[i]
        fill = ring_fill[a]
        head = ring_head[a]
        t = created_at_ns[i]
        if fill > 0:
            latest = ring_ts[a, (head - 1) % ring_size]
            if t < latest:
                t = latest
        for w in range(n_windows):
            counts[w] = 1
            sums[w] = x
        for k in range(fill):
            slot = (head - 1 - k) % ring_size
            age = t - ring_ts[a, slot]
            if age >= longest:
                break
            for w in range(n_windows):
                if age < window_ns[w]:
                    counts[w] += 1
                    sums[w] += ring_amount[a, slot]
        best = 0.0
        best_w = 0
        for w in range(n_windows):
            ratio = max(counts[w] / max_count[w], sums[w] / max_sum[w])
            s = _ramp(ratio, ramp_from, 1.0)
            if s > best:
                best = s
                best_w = w
        score[i] = best
        window[i] = best_w
        count[i] = counts[best_w]
        total[i] = sums[best_w]
        ring_ts[a, head] = t
        ring_amount[a, head] = x
        ring_head[a] = (head + 1) % ring_size
        if fill < ring_size:
            ring_fill[a] = fill + 1


@njit(cache=True, nogil=True)
def amount_kernel(account, amount, history, mean, m2,
                  min_history, z_start, z_full, min_std, large_amount,
                  score, z, seen, typical):
    """Score AMOUNT against each account's running mean and variance of log(amount) (Welford).

    A payment is scored against the history before it, then added to it. It scores only with
    at least ``min_history`` earlier payments, and only when it is larger than usual (z > 0).
    At or above ``large_amount`` (``inf`` when off) it scores 1 whatever the history.
    Outputs: the score, the z-score (NaN when not scored), the earlier payments counted and
    the account's typical amount (geometric mean) before this payment.
    """
    n = account.shape[0]
    for i in range(n):
        a = account[i]
        x = amount[i]
        k = history[a]
        seen[i] = k
        s = 0.0
        z[i] = np.nan
        typical[i] = np.nan
        if not (x > 0.0 and math.isfinite(x)):
            score[i] = 0.0
            continue
        v = math.log(x)
        if k >= min_history:
            std = math.sqrt(m2[a] / (k - 1))
            if std < min_std:
                std = min_std
            zi = (v - mean[a]) / std
            z[i] = zi
            typical[i] = math.exp(mean[a])
            s = _ramp(zi, z_start, z_full)
        elif k > 0:
            typical[i] = math.exp(mean[a])
        if x >= large_amount:
            s = 1.0
        score[i] = s
        k += 1
        delta = v - mean[a]
        mean[a] += delta / k
        m2[a] += delta * (v - mean[a])
        history[a] = k


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
