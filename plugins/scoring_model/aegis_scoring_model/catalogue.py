"""The feature catalogue: every feature the kernel computes, its factor group, and how a weights
file names features (a base feature, a channel indicator, or the product of two).

A weights file may use any subset of the catalogue, in any order, plus channel indicators
(``channel:TRANSFER``) and products (``balance_emptied*channel:TRANSFER``). A product's
contribution belongs to the group the file gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Base features, in the column order of the feature kernel's output, with what each measures.
BASE_FEATURES: dict[str, str] = {
    "log_amount": "log(1 + amount)",
    "round_amount": "1 for a multiple of 1,000, 0.5 for a multiple of 100 (amounts of at least 100), else 0",
    "under_threshold": "1 when the amount lies in [90 %, 100 %) of a reporting threshold",
    "hour_sin": "sin(2π · minute of the day / 1440), UTC",
    "hour_cos": "cos(2π · minute of the day / 1440), UTC",
    "has_balance": "1 when the payment carries the debtor's balance before it",
    "balance_share": "amount / debtor balance before, in [0, 2]; 0 without a positive balance",
    "balance_emptied": "1 when the amount is at least the (positive) debtor balance before",
    "balance_overdrawn": "1 when the debtor balance before is known and not positive",
    "observed_share": "amount / the debtor's net inflow seen in the stream, in [0, 2]; 0 when that is not positive",
    "observed_emptied": "1 when the amount is at least 99 % of the debtor's positive observed net inflow",
    "drain_share": "balance_share when the balance is known, else observed_share",
    "drained": "balance_emptied when the balance is known, else observed_emptied",
    "pass_through": "min/max ratio of the amount and the debtor's inflows of the last 24 h (0 without inflows)",
    "inflow_recency": "1 / (1 + hours since the debtor's last inflow); 0 without one",
    "debtor_history": "log(1 + earlier payments the debtor made)",
    "debtor_new": "1 when the debtor account was never seen before, in any role",
    "creditor_new": "1 when the creditor account was never seen before, in any role",
    "creditor_history": "log(1 + earlier payments the creditor took part in, in any role)",
    "first_to_creditor": "1 when the debtor's remembered payments include none to this creditor",
    "repeat_to_creditor_24h": "log(1 + the debtor's payments to this creditor in the last 24 h)",
    "amount_z_high": "z-score of log(amount) above the debtor's own history, in [0, 6] (0 below min_history)",
    "amount_z_low": "z-score of log(amount) below the debtor's own history, in [0, 6] (0 below min_history)",
    "amount_pctl": "share of the debtor's remembered payments smaller than this one (0.5 without history)",
    "velocity_count_1h": "log(1 + the debtor's payments in the last hour, this one included)",
    "velocity_count_24h": "log(1 + the debtor's payments in the last 24 h, this one included)",
    "velocity_sum_24h": "log(1 + the sum the debtor paid in the last 24 h, this one included)",
    "fan_out_30d": "log(1 + distinct creditors the debtor paid in the last 30 days, this one included)",
    "fan_in_30d": "log(1 + distinct debtors that paid the creditor in the last 30 days, this one included)",
    "reciprocal": "1 when the creditor paid the debtor before (a round trip)",
    "new_amount": "1 when the debtor's remembered payments exist and none is within 0.5 % of this amount",
    "creditor_new_amount": "1 when the creditor's remembered inflows exist and none is within 0.5 % of this amount",
    "debtor_fan_in_30d": "log(1 + distinct accounts that paid the debtor in the last 30 days)",
    "creditor_fan_out_30d": "log(1 + distinct accounts the creditor paid in the last 30 days)",
    "debtor_received": "log(1 + earlier payments the debtor received)",
    "creditor_paid": "log(1 + earlier payments the creditor made)",
    "creditor_received": "log(1 + earlier payments the creditor received)",
    "debtor_exposure": "log(1 + earlier unusual payments (new amount or repeat within 24 h) the debtor took part in)",
    "creditor_exposure": "log(1 + earlier unusual payments the creditor took part in)",
}
BASE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BASE_FEATURES)}
N_BASE = len(BASE_FEATURES)

#: Factor groups: the named factors the model's score is explained by, with their reason codes.
GROUPS: dict[str, str] = {
    "AMOUNT": "RC_MODEL_AMOUNT",
    "VELOCITY": "RC_MODEL_VELOCITY",
    "BALANCE": "RC_MODEL_BALANCE",
    "BEHAVIOUR": "RC_MODEL_BEHAVIOUR",
    "NETWORK": "RC_MODEL_NETWORK",
}
GROUP_INDEX: dict[str, int] = {name: i for i, name in enumerate(GROUPS)}

#: The group each base feature belongs to unless a weights file says otherwise.
DEFAULT_GROUP: dict[str, str] = {
    **dict.fromkeys(("log_amount", "round_amount", "under_threshold", "amount_z_high", "amount_z_low",
                     "amount_pctl", "new_amount", "creditor_new_amount"), "AMOUNT"),
    **dict.fromkeys(("velocity_count_1h", "velocity_count_24h", "velocity_sum_24h", "repeat_to_creditor_24h"),
                    "VELOCITY"),
    **dict.fromkeys(("has_balance", "balance_share", "balance_emptied", "balance_overdrawn", "observed_share",
                     "observed_emptied", "drain_share", "drained", "pass_through", "inflow_recency"), "BALANCE"),
    **dict.fromkeys(("hour_sin", "hour_cos", "debtor_history", "debtor_new", "first_to_creditor"), "BEHAVIOUR"),
    **dict.fromkeys(("creditor_new", "creditor_history", "fan_out_30d", "fan_in_30d", "reciprocal", "debtor_fan_in_30d",
                     "creditor_fan_out_30d", "debtor_received", "creditor_paid", "creditor_received", "debtor_exposure",
                     "creditor_exposure"), "NETWORK"),
}
assert set(DEFAULT_GROUP) == set(BASE_FEATURES)

CHANNEL_PREFIX = "channel:"
#: Source index meaning "no second factor" in a feature's (first, second) source pair.
NO_SOURCE = -(1 << 30)


class FeatureNameError(ValueError):
    """A feature name the catalogue does not know."""


@dataclass(frozen=True)
class FeatureRef:
    """Where a model feature's value comes from: one or two sources, each a base column or a channel.

    A source ``s >= 0`` is base column ``s``; ``s < 0`` is the indicator of channel ``-s - 1`` in
    the model's channel list; :data:`NO_SOURCE` as second source means "times 1".
    """

    name: str
    first: int
    second: int


def parse_feature(name: str, channels: list[str]) -> FeatureRef:
    """Resolve ``name`` against the catalogue and the model's ``channels`` (raises FeatureNameError)."""
    parts = name.split("*")
    if len(parts) > 2 or not all(parts):
        raise FeatureNameError(f"feature {name!r}: write a base feature, channel:<NAME>, or a product a*b of two")
    sources = [_source(p, channels, name) for p in parts]
    return FeatureRef(name=name, first=sources[0], second=sources[1] if len(sources) == 2 else NO_SOURCE)


def _source(part: str, channels: list[str], name: str) -> int:
    if part.startswith(CHANNEL_PREFIX):
        channel = part[len(CHANNEL_PREFIX):]
        if channel not in channels:
            raise FeatureNameError(f"feature {name!r}: channel {channel!r} is not in the model's channels "
                                   f"{channels}")
        return -channels.index(channel) - 1
    if part not in BASE_INDEX:
        raise FeatureNameError(f"feature {name!r}: unknown feature {part!r}; known: {', '.join(BASE_FEATURES)}")
    return BASE_INDEX[part]


def default_group(name: str) -> str:
    """The group of a feature name: that of its first base feature, BEHAVIOUR for channel indicators."""
    first = name.split("*")[0]
    return DEFAULT_GROUP.get(first, "BEHAVIOUR")
