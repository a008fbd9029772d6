"""The numba kernels: behavioural features in one pass over a batch, then the linear model with
per-group contributions.

:func:`feature_kernel` reads each payment's debtor and creditor state, writes one row of
:data:`aegis_scoring_model.catalogue.BASE_FEATURES`, then folds the payment into the state, so
later payments of the same batch see the earlier ones. :func:`score_kernel` evaluates the
logistic model on those rows and splits each probability into exact group contributions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from aegis_scoring_model.catalogue import BASE_INDEX

HOUR_NS = 3_600_000_000_000
DAY_NS = 24 * HOUR_NS
MONTH_NS = 30 * DAY_NS
MINUTE_NS = 60_000_000_000
#: log(1 + k) for small counts, and sin/cos of the time of day by minute: table lookups instead of calls.
LOG1P_COUNTS = np.log1p(np.arange(4096, dtype=np.float64))
_MINUTES = 2.0 * np.pi * np.arange(1440) / 1440.0
SIN_MINUTE = np.sin(_MINUTES)
COS_MINUTE = np.cos(_MINUTES)
#: Floor on the standard deviation of log(amount), so steady payers are not scored on noise.
MIN_STD = 0.1
Z_CAP = 6.0
SHARE_CAP = 2.0
#: Column of each base feature in a feature row (numba folds these module constants in).
LOG_AMOUNT = BASE_INDEX['log_amount']
ROUND_AMOUNT = BASE_INDEX['round_amount']
UNDER_THRESHOLD = BASE_INDEX['under_threshold']
HOUR_SIN = BASE_INDEX['hour_sin']
HOUR_COS = BASE_INDEX['hour_cos']
HAS_BALANCE = BASE_INDEX['has_balance']
BALANCE_SHARE = BASE_INDEX['balance_share']
BALANCE_EMPTIED = BASE_INDEX['balance_emptied']
BALANCE_OVERDRAWN = BASE_INDEX['balance_overdrawn']
OBSERVED_SHARE = BASE_INDEX['observed_share']
OBSERVED_EMPTIED = BASE_INDEX['observed_emptied']
DRAIN_SHARE = BASE_INDEX['drain_share']
DRAINED = BASE_INDEX['drained']
PASS_THROUGH = BASE_INDEX['pass_through']
INFLOW_RECENCY = BASE_INDEX['inflow_recency']
DEBTOR_HISTORY = BASE_INDEX['debtor_history']
DEBTOR_NEW = BASE_INDEX['debtor_new']
CREDITOR_NEW = BASE_INDEX['creditor_new']
CREDITOR_HISTORY = BASE_INDEX['creditor_history']
FIRST_TO_CREDITOR = BASE_INDEX['first_to_creditor']
REPEAT_TO_CREDITOR_24H = BASE_INDEX['repeat_to_creditor_24h']
AMOUNT_Z_HIGH = BASE_INDEX['amount_z_high']
AMOUNT_Z_LOW = BASE_INDEX['amount_z_low']
AMOUNT_PCTL = BASE_INDEX['amount_pctl']
VELOCITY_COUNT_1H = BASE_INDEX['velocity_count_1h']
VELOCITY_COUNT_24H = BASE_INDEX['velocity_count_24h']
VELOCITY_SUM_24H = BASE_INDEX['velocity_sum_24h']
FAN_OUT_30D = BASE_INDEX['fan_out_30d']
FAN_IN_30D = BASE_INDEX['fan_in_30d']
RECIPROCAL = BASE_INDEX['reciprocal']
NEW_AMOUNT = BASE_INDEX['new_amount']
CREDITOR_NEW_AMOUNT = BASE_INDEX['creditor_new_amount']
DEBTOR_FAN_IN_30D = BASE_INDEX['debtor_fan_in_30d']
CREDITOR_FAN_OUT_30D = BASE_INDEX['creditor_fan_out_30d']
DEBTOR_RECEIVED = BASE_INDEX['debtor_received']
CREDITOR_PAID = BASE_INDEX['creditor_paid']
CREDITOR_RECEIVED = BASE_INDEX['creditor_received']
DEBTOR_EXPOSURE = BASE_INDEX['debtor_exposure']
CREDITOR_EXPOSURE = BASE_INDEX['creditor_exposure']


@njit(cache=True, nogil=True)
def _log1p_count(k):
    """log(1 + k) for a count ``k >= 0``."""
    return LOG1P_COUNTS[k] if k < 4096 else math.log1p(k)


@njit(cache=True, nogil=True)
def _distinct_within(ring, head, fill, t, window_ns, skip, seen):
    """Distinct counterparties of the ring's events younger than ``window_ns``, ``skip`` left out."""
    ring_size = ring.shape[0]
    count = 0
    slot = head - 1 if head > 0 else ring_size - 1
    for _ in range(fill):
        e = ring[slot]
        if t - e.ts < window_ns and e.cp != skip:
            new = True
            for m in range(count):
                if seen[m] == e.cp:
                    new = False
                    break
            if new:
                seen[count] = e.cp
                count += 1
        slot = slot - 1 if slot > 0 else ring_size - 1
    return count


@njit(cache=True, nogil=True)
def _has_amount(ring, fill, x):
    """Whether any of the ring's ``fill`` events has an amount within 0.5 % of ``x``."""
    for k in range(fill):
        if abs(ring[k].amount - x) <= 0.005 * x:
            return True
    return False


@njit(cache=True, nogil=True)
def feature_kernel(debtor, creditor, amount, created_at_ns, balance, credit, thresholds, min_history,
                   accounts, out_ring, in_ring, features):
    """Write the base feature row of every payment, then fold the payment into both accounts.

    ``credit[i]`` marks a payment whose money flows from creditor to debtor (PaySim's CASH_IN:
    the customer named as debtor deposits cash); state follows the money, features keep the
    batch's roles. ``balance`` is NaN where the payment carries no balance. Column order is that
    of :data:`~aegis_scoring_model.catalogue.BASE_FEATURES`.
    """
    n = debtor.shape[0]
    ring_size = out_ring.shape[1]
    seen = np.empty(ring_size, dtype=np.int64)
    for i in range(n):
        a = debtor[i]
        c = creditor[i]
        x = amount[i]
        t = created_at_ns[i]
        b = balance[i]
        sa = accounts[a]
        sc = accounts[c]
        row = features[i]
        a_out = out_ring[a]
        a_in = in_ring[a]
        c_out = out_ring[c]
        c_in = in_ring[c]

        # AMOUNT, stateless
        row[LOG_AMOUNT] = math.log1p(x) if x > 0.0 else 0.0
        r = 0.0
        if x >= 100.0:
            if x % 1000.0 == 0.0:
                r = 1.0
            elif x % 100.0 == 0.0:
                r = 0.5
        row[ROUND_AMOUNT] = r
        under = 0.0
        for k in range(thresholds.shape[0]):
            if 0.9 * thresholds[k] <= x < thresholds[k]:
                under = 1.0
        row[UNDER_THRESHOLD] = under
        minute = (t % DAY_NS) // MINUTE_NS
        row[HOUR_SIN] = SIN_MINUTE[minute]
        row[HOUR_COS] = COS_MINUTE[minute]

        # BALANCE: the balance the payment carries, and the flows the stream has shown
        share = 0.0
        emptied = 0.0
        overdrawn = 0.0
        has = not math.isnan(b)
        if has:
            if b > 0.0:
                share = min(x / b, SHARE_CAP)
                emptied = 1.0 if x >= b * (1.0 - 1e-9) else 0.0
            else:
                overdrawn = 1.0
        net = sa.net
        observed_share = min(x / net, SHARE_CAP) if net > 0.0 else 0.0
        observed_emptied = 1.0 if (net > 0.0 and x >= 0.99 * net) else 0.0
        row[HAS_BALANCE] = 1.0 if has else 0.0
        row[BALANCE_SHARE] = share
        row[BALANCE_EMPTIED] = emptied
        row[BALANCE_OVERDRAWN] = overdrawn
        row[OBSERVED_SHARE] = observed_share
        row[OBSERVED_EMPTIED] = observed_emptied
        row[DRAIN_SHARE] = share if has else observed_share
        row[DRAINED] = emptied if has else observed_emptied
        inflow = 0.0
        reciprocal = 0.0
        slot = sa.in_head - 1 if sa.in_head > 0 else ring_size - 1
        for _ in range(sa.in_fill):
            e = a_in[slot]
            if e.cp == c:
                reciprocal = 1.0
            if t - e.ts < DAY_NS:
                inflow += e.amount
            slot = slot - 1 if slot > 0 else ring_size - 1
        row[PASS_THROUGH] = min(x, inflow) / max(x, inflow) if inflow > 0.0 and x > 0.0 else 0.0
        row[INFLOW_RECENCY] = 1.0 / (1.0 + max(t - sa.last_in_ns, 0) / HOUR_NS) if sa.in_fill > 0 else 0.0
        row[RECIPROCAL] = reciprocal

        # BEHAVIOUR and VELOCITY from the debtor's remembered payments
        row[DEBTOR_HISTORY] = _log1p_count(sa.paid)
        row[DEBTOR_NEW] = 1.0 if sa.seen == 0 else 0.0
        row[CREDITOR_NEW] = 1.0 if sc.seen == 0 else 0.0
        row[CREDITOR_HISTORY] = _log1p_count(sc.seen)
        count_1h = 1
        count_24h = 1
        sum_24h = x
        repeat = 0
        known = False
        smaller = 0.0
        fill = sa.out_fill
        slot = sa.out_head - 1 if sa.out_head > 0 else ring_size - 1
        for _ in range(fill):
            e = a_out[slot]
            age = t - e.ts
            if e.cp == c:
                known = True
                if age < DAY_NS:
                    repeat += 1
            if age < HOUR_NS:
                count_1h += 1
            if age < DAY_NS:
                count_24h += 1
                sum_24h += e.amount
            if e.amount < x:
                smaller += 1.0
            elif e.amount == x:
                smaller += 0.5
            slot = slot - 1 if slot > 0 else ring_size - 1
        row[FIRST_TO_CREDITOR] = 0.0 if known else 1.0
        row[REPEAT_TO_CREDITOR_24H] = _log1p_count(repeat)
        z_high = 0.0
        z_low = 0.0
        paid = sa.paid
        if paid >= min_history and x > 0.0:
            std = max(math.sqrt(sa.m2 / (paid - 1)), MIN_STD)
            z = (math.log(x) - sa.mean) / std
            z_high = min(max(z, 0.0), Z_CAP)
            z_low = min(max(-z, 0.0), Z_CAP)
        row[AMOUNT_Z_HIGH] = z_high
        row[AMOUNT_Z_LOW] = z_low
        row[AMOUNT_PCTL] = smaller / fill if fill > 0 else 0.5
        new_amount = fill > 0 and not _has_amount(a_out, fill, x)
        row[NEW_AMOUNT] = 1.0 if new_amount else 0.0
        row[CREDITOR_NEW_AMOUNT] = 1.0 if (sc.in_fill > 0 and not _has_amount(c_in, sc.in_fill, x)) else 0.0
        row[VELOCITY_COUNT_1H] = _log1p_count(count_1h)
        row[VELOCITY_COUNT_24H] = _log1p_count(count_24h)
        row[VELOCITY_SUM_24H] = math.log1p(sum_24h)

        # NETWORK: degrees over the last week, and exposure to unusual payments
        row[FAN_OUT_30D] = _log1p_count(1 + _distinct_within(a_out, sa.out_head, fill, t, MONTH_NS, c, seen))
        row[FAN_IN_30D] = _log1p_count(1 + _distinct_within(c_in, sc.in_head, sc.in_fill, t, MONTH_NS, a, seen))
        row[DEBTOR_FAN_IN_30D] = _log1p_count(_distinct_within(a_in, sa.in_head, sa.in_fill, t, MONTH_NS, -1, seen))
        row[CREDITOR_FAN_OUT_30D] = _log1p_count(_distinct_within(c_out, sc.out_head, sc.out_fill, t, MONTH_NS, -1,
                                                               seen))
        row[DEBTOR_RECEIVED] = _log1p_count(sa.received)
        row[CREDITOR_PAID] = _log1p_count(sc.paid)
        row[CREDITOR_RECEIVED] = _log1p_count(sc.received)
        row[DEBTOR_EXPOSURE] = _log1p_count(sa.exposure)
        row[CREDITOR_EXPOSURE] = _log1p_count(sc.exposure)

        # Fold the payment in, following the money.
        if new_amount or repeat > 0:
            sa.exposure += 1
            if c != a:
                sc.exposure += 1
        payer = c if credit[i] else a
        payee = a if credit[i] else c
        sp = accounts[payer]
        head = sp.out_head
        out_ring[payer, head].ts = t
        out_ring[payer, head].amount = x
        out_ring[payer, head].cp = payee
        sp.out_head = head + 1 if head + 1 < ring_size else 0
        if sp.out_fill < ring_size:
            sp.out_fill += 1
        if x > 0.0:
            k = sp.paid + 1
            v = math.log(x)
            delta = v - sp.mean
            sp.mean += delta / k
            sp.m2 += delta * (v - sp.mean)
            sp.paid = k
        sp.net -= x
        sq = accounts[payee]
        head = sq.in_head
        in_ring[payee, head].ts = t
        in_ring[payee, head].amount = x
        in_ring[payee, head].cp = payer
        sq.in_head = head + 1 if head + 1 < ring_size else 0
        if sq.in_fill < ring_size:
            sq.in_fill += 1
        sq.net += x
        sq.received += 1
        if t > sq.last_in_ns:
            sq.last_in_ns = t
        sa.seen += 1
        if c != a:
            sc.seen += 1


@njit(cache=True, nogil=True)
def score_kernel(features, channel, active, active_count, base1, base2, lo, hi, coef, ref, group,
                 const_group, const_total, logit_ref, probability, contributions):
    """Probability of every row and each group's share of it above the reference payment.

    A model feature is ``clip(source1 · source2, lo, hi)``; its log-odds contribution
    ``coef · (value - ref)`` is never negative because ``ref`` is the clip bound that minimises
    it, so ``logit = logit_ref + Σ contributions``. The probability above the reference,
    ``σ(logit) - σ(logit_ref)``, is split over groups in proportion to their log-odds
    (the Aumann–Shapley / integrated-gradients attribution of σ along the straight path from the
    reference), so each row's group contributions sum to it exactly.

    The plan comes from :class:`~aegis_scoring_model.weights.ScoringPlan`: per channel code
    (row ``code + 1``) the features whose value depends on the row (``active``), and the summed
    contributions of those that are constant for that channel (``const_*``). An active feature's
    channel factors are 1; ``base1``/``base2`` name its base columns (``-1``: none).
    """
    n = features.shape[0]
    n_groups = contributions.shape[1]
    sums = np.zeros(n_groups)
    p_ref = 1.0 / (1.0 + math.exp(-logit_ref))
    for i in range(n):
        k = channel[i] + 1
        for g in range(n_groups):
            sums[g] = const_group[k, g]
        total = const_total[k]
        row = features[i]
        for a in range(active_count[k]):
            j = active[k, a]
            v = 1.0
            if base1[j] >= 0:
                v = row[base1[j]]
            if base2[j] >= 0:
                v *= row[base2[j]]
            if v < lo[j]:
                v = lo[j]
            elif v > hi[j]:
                v = hi[j]
            phi = coef[j] * (v - ref[j])
            sums[group[j]] += phi
            total += phi
        p = 1.0 / (1.0 + math.exp(-(logit_ref + total)))
        probability[i] = p
        scale = (p - p_ref) / total if total > 0.0 else 0.0
        for g in range(n_groups):
            contributions[i, g] = sums[g] * scale
