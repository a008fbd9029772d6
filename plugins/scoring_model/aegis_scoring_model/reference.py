"""The same features and model in plain Python (dicts, lists, deques).

It is the oracle the tests compare the numba kernels against, and the baseline benchmarks measure
them by. It shares only the catalogue's feature names and the parsed weights with the engine:
rings, windows, Welford updates, degrees and the model's arithmetic are written again here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aegis_scoring_model.catalogue import BASE_FEATURES, GROUPS, NO_SOURCE
from aegis_scoring_model.weights import LinearModel

HOUR = 3_600_000_000_000
DAY = 24 * HOUR
MONTH = 30 * DAY
MINUTE = 60_000_000_000
MIN_STD = 0.1


@dataclass
class _Account:
    outs: deque  # (time, amount, counterparty), oldest first
    ins: deque
    seen: int = 0
    paid: int = 0
    received: int = 0
    mean: float = 0.0
    m2: float = 0.0
    net: float = 0.0
    last_in: int = 0
    exposure: int = 0


@dataclass
class ReferenceScores:
    features: list[dict[str, float]] = field(default_factory=list)
    probability: list[float] = field(default_factory=list)
    contributions: list[list[float]] = field(default_factory=list)  # per group, catalogue order


def _distinct(events: deque, t: int, skip: int) -> int:
    return len({cp for (ts, _, cp) in events if t - ts < MONTH and cp != skip})


class ReferenceModel:
    """Plain-Python features and scoring with the engine's semantics; ``score_arrays`` takes the same columns."""

    def __init__(self, model: LinearModel, ring_size: int):
        self.model = model
        self.ring_size = ring_size
        self.accounts: dict[int, _Account] = {}

    def _account(self, key: int) -> _Account:
        account = self.accounts.get(key)
        if account is None:
            account = self.accounts[key] = _Account(deque(maxlen=self.ring_size), deque(maxlen=self.ring_size))
        return account

    def score_arrays(self, debtor_account: np.ndarray, creditor_account: np.ndarray, amount: np.ndarray,
                     created_at_ns: np.ndarray, debtor_balance_before: np.ndarray,
                     channels: Sequence[str | None]) -> ReferenceScores:
        out = ReferenceScores()
        rows = zip(np.asarray(debtor_account).tolist(), np.asarray(creditor_account).tolist(),
                   np.asarray(amount, dtype=float).tolist(), np.asarray(created_at_ns).tolist(),
                   np.asarray(debtor_balance_before, dtype=float).tolist(), channels, strict=True)
        for a, c, x, t, b, channel in rows:
            f = self._features(a, c, x, t, b, channel in self.model.credit_channels)
            p, groups = self._score(f, channel)
            out.features.append(f)
            out.probability.append(p)
            out.contributions.append(groups)
        return out

    def _features(self, a: int, c: int, x: float, t: int, b: float, credit: bool) -> dict[str, float]:
        model = self.model
        sa, sc = self._account(a), self._account(c)
        f: dict[str, float] = {}
        f["log_amount"] = math.log1p(x) if x > 0 else 0.0
        f["round_amount"] = (1.0 if x % 1000 == 0 else 0.5 if x % 100 == 0 else 0.0) if x >= 100 else 0.0
        f["under_threshold"] = float(any(0.9 * th <= x < th for th in model.thresholds.tolist()))
        minute = (t % DAY) // MINUTE
        f["hour_sin"] = math.sin(2 * math.pi * minute / 1440)
        f["hour_cos"] = math.cos(2 * math.pi * minute / 1440)
        has = not math.isnan(b)
        share = min(x / b, 2.0) if has and b > 0 else 0.0
        emptied = float(has and b > 0 and x >= b * (1 - 1e-9))
        observed_share = min(x / sa.net, 2.0) if sa.net > 0 else 0.0
        observed_emptied = float(sa.net > 0 and x >= 0.99 * sa.net)
        f["has_balance"] = float(has)
        f["balance_share"] = share
        f["balance_emptied"] = emptied
        f["balance_overdrawn"] = float(has and b <= 0)
        f["observed_share"] = observed_share
        f["observed_emptied"] = observed_emptied
        f["drain_share"] = share if has else observed_share
        f["drained"] = emptied if has else observed_emptied
        inflow = sum(amt for (ts, amt, _) in sa.ins if t - ts < DAY)
        f["pass_through"] = min(x, inflow) / max(x, inflow) if inflow > 0 and x > 0 else 0.0
        f["inflow_recency"] = 1.0 / (1.0 + max(t - sa.last_in, 0) / HOUR) if sa.ins else 0.0
        f["debtor_history"] = math.log1p(sa.paid)
        f["debtor_new"] = float(sa.seen == 0)
        f["creditor_new"] = float(sc.seen == 0)
        f["creditor_history"] = math.log1p(sc.seen)
        to_creditor = [(ts, amt) for (ts, amt, cp) in sa.outs if cp == c]
        repeat = sum(1 for (ts, _) in to_creditor if t - ts < DAY)
        f["first_to_creditor"] = float(not to_creditor)
        f["repeat_to_creditor_24h"] = math.log1p(repeat)
        z_high = z_low = 0.0
        if sa.paid >= model.min_history and x > 0:
            std = max(math.sqrt(sa.m2 / (sa.paid - 1)), MIN_STD)
            z = (math.log(x) - sa.mean) / std
            z_high, z_low = min(max(z, 0.0), 6.0), min(max(-z, 0.0), 6.0)
        f["amount_z_high"] = z_high
        f["amount_z_low"] = z_low
        amounts = [amt for (_, amt, _) in sa.outs]
        smaller = sum(1.0 if amt < x else 0.5 if amt == x else 0.0 for amt in amounts)
        f["amount_pctl"] = smaller / len(amounts) if amounts else 0.5
        f["velocity_count_1h"] = math.log1p(1 + sum(1 for (ts, _, _) in sa.outs if t - ts < HOUR))
        recent = [amt for (ts, amt, _) in sa.outs if t - ts < DAY]
        f["velocity_count_24h"] = math.log1p(1 + len(recent))
        f["velocity_sum_24h"] = math.log1p(x + sum(recent))
        f["fan_out_30d"] = math.log1p(1 + _distinct(sa.outs, t, c))
        f["fan_in_30d"] = math.log1p(1 + _distinct(sc.ins, t, a))
        f["reciprocal"] = float(any(cp == c for (_, _, cp) in sa.ins))
        new_amount = bool(amounts) and not any(abs(amt - x) <= 0.005 * x for amt in amounts)
        f["new_amount"] = float(new_amount)
        f["creditor_new_amount"] = float(bool(sc.ins) and not any(abs(amt - x) <= 0.005 * x
                                                                   for (_, amt, _) in sc.ins))
        f["debtor_fan_in_30d"] = math.log1p(_distinct(sa.ins, t, -1))
        f["creditor_fan_out_30d"] = math.log1p(_distinct(sc.outs, t, -1))
        f["debtor_received"] = math.log1p(sa.received)
        f["creditor_paid"] = math.log1p(sc.paid)
        f["creditor_received"] = math.log1p(sc.received)
        f["debtor_exposure"] = math.log1p(sa.exposure)
        f["creditor_exposure"] = math.log1p(sc.exposure)
        assert list(f) == list(BASE_FEATURES)

        if new_amount or repeat > 0:
            sa.exposure += 1
            if c != a:
                sc.exposure += 1
        payer, payee = (c, a) if credit else (a, c)
        sp, sq = self._account(payer), self._account(payee)
        sp.outs.append((t, x, payee))
        if x > 0:
            sp.paid += 1
            v = math.log(x)
            delta = v - sp.mean
            sp.mean += delta / sp.paid
            sp.m2 += delta * (v - sp.mean)
        sp.net -= x
        sq.ins.append((t, x, payer))
        sq.net += x
        sq.received += 1
        sq.last_in = max(sq.last_in, t)
        sa.seen += 1
        if c != a:
            sc.seen += 1
        return f

    def _score(self, f: dict[str, float], channel: str | None) -> tuple[float, list[float]]:
        model = self.model
        names = list(BASE_FEATURES)
        code = model.channel_codes.get(channel, -1) if channel is not None else -1

        def source(s: int) -> float:
            if s == NO_SOURCE:
                return 1.0
            if s >= 0:
                return f[names[s]]
            return 1.0 if code == -s - 1 else 0.0

        groups = [0.0] * len(GROUPS)
        total = 0.0
        for j in range(len(model.coef)):
            v = min(max(source(int(model.first[j])) * source(int(model.second[j])), float(model.lo[j])),
                    float(model.hi[j]))
            phi = float(model.coef[j]) * (v - float(model.ref[j]))
            groups[int(model.group[j])] += phi
            total += phi
        p = 1.0 / (1.0 + math.exp(-(model.logit_ref + total)))
        scale = (p - model.p_ref) / total if total > 0 else 0.0
        return p, [g * scale for g in groups]
