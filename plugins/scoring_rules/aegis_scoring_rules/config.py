"""The rules plugin's configuration: velocity windows, amount-anomaly thresholds, FATF geography."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, FilePath, model_validator

#: Every section refuses NaN and infinity: a threshold that compares false with everything would
#: silently switch a rule off.
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}

#: FATF statuses and the GEO score each gives unless configured otherwise.
DEFAULT_STATUS_SCORES = {
    "call_for_action_countermeasures": 1.0,
    "call_for_action_enhanced_due_diligence": 1.0,
    "increased_monitoring": 0.5,
}


def parse_duration(value: object) -> str:
    """Check a window length such as ``60s``, ``15m``, ``1h``, ``24h`` or ``7d``; return it normalised."""
    if not isinstance(value, str) or not (match := _DURATION.match(value)):
        raise ValueError(f"expected a duration like 60s, 15m, 1h, 24h or 7d, got {value!r}")
    if int(match.group(1)) <= 0:
        raise ValueError(f"a window must be longer than zero, got {value!r}")
    return f"{int(match.group(1))}{match.group(2)}"


def duration_ns(value: str) -> int:
    """Nanoseconds in a duration accepted by :func:`parse_duration`."""
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"not a duration: {value!r}")
    return int(match.group(1)) * _UNIT_NS[match.group(2)]


Duration = Annotated[str, BeforeValidator(parse_duration)]


class VelocityWindow(BaseModel):
    """One sliding window over a debtor account's payments and its limits."""

    model_config = STRICT

    window: Duration = Field(description="window length: 60s, 15m, 1h, 24h, 7d")
    max_count: int | None = Field(None, ge=1, description="payments in the window (this one included) that score 1")
    max_sum: float | None = Field(None, gt=0, description="sum of amounts in the window (this one included), "
                                                          "in major units, that scores 1")

    @model_validator(mode="after")
    def _has_limit(self) -> VelocityWindow:
        if self.max_count is None and self.max_sum is None:
            raise ValueError(f"window {self.window} needs max_count, max_sum or both")
        return self

    @property
    def ns(self) -> int:
        return duration_ns(self.window)


class VelocityConfig(BaseModel):
    """VELOCITY: how many payments and how much money a debtor account sent recently."""

    model_config = STRICT

    windows: list[VelocityWindow] = Field(
        default_factory=lambda: [VelocityWindow(window="1h", max_count=10, max_sum=50_000.0),
                                 VelocityWindow(window="24h", max_count=40, max_sum=200_000.0)],
        min_length=1, description="sliding windows; the factor is the highest score over them")
    ramp_from: float = Field(0.7, ge=0, lt=1, description="fraction of a limit where the score starts rising "
                                                          "from 0 (it reaches 1 at the limit)")
    ring_size: int = Field(64, ge=1, le=4096, description="earlier payments remembered per account; counts "
                                                          "saturate at ring_size + 1 and sums cover only those")

    @model_validator(mode="after")
    def _windows(self) -> VelocityConfig:
        seen = [w.window for w in self.windows]
        if len(set(seen)) != len(seen):
            raise ValueError(f"windows must have distinct lengths, got {', '.join(seen)}")
        largest = max((w.max_count for w in self.windows if w.max_count is not None), default=0)
        if self.ring_size + 1 < largest:
            raise ValueError(f"ring_size ({self.ring_size}) is too small for max_count {largest}: counts "
                             f"saturate at ring_size + 1 = {self.ring_size + 1}")
        return self


class AmountConfig(BaseModel):
    """AMOUNT: how unusual a payment's amount is for its debtor account."""

    model_config = STRICT

    min_history: int = Field(5, ge=2, description="earlier payments an account needs before it is scored")
    z_start: float = Field(2.0, ge=0, description="z-score of log(amount) where the score starts rising from 0")
    z_full: float = Field(4.0, gt=0, description="z-score of log(amount) at which the score is 1")
    min_std: float = Field(0.25, gt=0, description="floor on the standard deviation of log(amount), so an "
                                                   "account that always pays the same is not scored on noise")
    large_amount: float | None = Field(None, gt=0, description="an amount (major units) at or above which the "
                                                               "score is 1 whatever the history; null: off")

    @model_validator(mode="after")
    def _ordered(self) -> AmountConfig:
        if self.z_full <= self.z_start:
            raise ValueError(f"z_full ({self.z_full}) must be greater than z_start ({self.z_start})")
        return self


class GeoConfig(BaseModel):
    """GEO: debtor or creditor country on a FATF list."""

    model_config = STRICT

    fatf_list: FilePath = Field(description="CSV with columns as_of,iso2,jurisdiction,fatf_status,confidence,"
                                            "sources (one row per listed jurisdiction and list date)")
    as_of: date | None = Field(None, description="use the latest list dated on or before this day; "
                                                 "null: the latest list in the file")
    status_scores: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_STATUS_SCORES),
        description="fatf_status → GEO score; a status not listed here makes the file invalid")


class ThresholdsFile(BaseModel):
    """The hot-reloadable thresholds file: ``velocity`` and/or ``amount`` sections that replace the YAML's."""

    model_config = STRICT

    velocity: VelocityConfig | None = Field(None, description="replaces the deployment's velocity section")
    amount: AmountConfig | None = Field(None, description="replaces the deployment's amount section")


class RulesConfig(BaseModel):
    """Configuration of the ``rules`` scoring plugin."""

    model_config = STRICT

    velocity: VelocityConfig = Field(default_factory=VelocityConfig, description="VELOCITY factor")
    amount: AmountConfig = Field(default_factory=AmountConfig, description="AMOUNT factor")
    geo: GeoConfig = Field(description="GEO factor (fatf_list is required)")
    thresholds: FilePath | None = Field(
        None, description="YAML or JSON file with velocity and/or amount sections that replace the ones "
                          "above; watched and hot-reloaded like the FATF list. null: thresholds come from "
                          "this file and change only on restart")
    details: bool = Field(True, description="explain each non-zero score in the decision record")
