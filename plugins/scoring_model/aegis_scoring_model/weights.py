"""The weights file (``model_weights.json``): its schema, its checks, and the immutable model built from it.

A file is refused as a whole, with the reason and the file's path, when it is not JSON, has
another ``schema_version`` or ``model_type``, names a feature or group the catalogue does not
know, or holds a NaN or infinite number anywhere. ``model_version_hash`` is ``sha256:`` over
the file's bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aegis_scoring_model.catalogue import GROUP_INDEX, GROUPS, NO_SOURCE, FeatureNameError, parse_feature

SCHEMA_VERSION = 1
MODEL_TYPE = "logistic_regression"


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and what is wrong."""


class FeatureWeight(BaseModel):
    """One model feature: its name, group, normalisation, clip range and weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="a catalogue feature, channel:<NAME>, or a product a*b")
    group: str = Field(description="the factor its contribution is reported under")
    mean: float = Field(description="training mean, subtracted before weighting")
    std: float = Field(gt=0, description="training standard deviation, divided by before weighting")
    clip: tuple[float, float] = Field(description="[low, high] the raw value is clipped to")
    weight: float = Field(description="coefficient of the standardised value (log-odds)")

    @field_validator("group")
    @classmethod
    def _known_group(cls, value: str) -> str:
        if value not in GROUPS:
            raise ValueError(f"unknown group {value!r}; known: {', '.join(GROUPS)}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> FeatureWeight:
        if self.clip[0] > self.clip[1]:
            raise ValueError(f"clip low {self.clip[0]} is above clip high {self.clip[1]}")
        return self


class FeatureSettings(BaseModel):
    """How features are computed; part of the model because training used exactly these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[str] = Field(default_factory=list, description="channels with an indicator feature")
    credit_channels: list[str] = Field(default_factory=list,
                                       description="channels whose money flows from creditor to debtor")
    reporting_thresholds: list[float] = Field(default_factory=lambda: [10_000.0],
                                              description="amounts just under these score under_threshold")
    min_history: int = Field(3, ge=2, description="earlier payments needed before amount z-scores count")


class WeightsFile(BaseModel):
    """The whole file as written by ``aegis model train``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = Field(description="format version of this file")
    model_type: Literal["logistic_regression"] = Field(description="the model family")
    intercept: float = Field(description="log-odds of a payment whose standardised features are all 0")
    features: list[FeatureWeight] = Field(min_length=1, description="model features, in any order")
    feature_settings: FeatureSettings = Field(default_factory=FeatureSettings,
                                              description="how the features were computed")
    training: dict[str, Any] = Field(default_factory=dict,
                                     description="data set, split, date, command and metrics")

    @model_validator(mode="after")
    def _distinct(self) -> WeightsFile:
        names = [f.name for f in self.features]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"features listed more than once: {repeated}")
        return self


@dataclass(frozen=True)
class ScoringPlan:
    """The model rearranged per channel for :func:`~aegis_scoring_model.kernels.score_kernel`.

    For a payment on channel code ``k`` (row ``k + 1``; ``-1`` is "none or unknown") a feature that
    involves another channel is 0 before clipping, so its contribution is a constant, summed into
    ``const_group``/``const_total``; only the others (``active``) are evaluated per payment.
    """

    active: np.ndarray  # (codes, m) int64 feature indices, padded with -1
    active_count: np.ndarray  # (codes,) int64
    base1: np.ndarray  # (m,) int64 base column of the first factor, -1 for a channel (1 when active)
    base2: np.ndarray  # (m,) int64 base column of the second factor, -1 for none or a channel
    const_group: np.ndarray  # (codes, groups)
    const_total: np.ndarray  # (codes,)

    @classmethod
    def build(cls, first: np.ndarray, second: np.ndarray, n_channels: int, lo: np.ndarray, hi: np.ndarray,
              coef: np.ndarray, ref: np.ndarray, group: np.ndarray) -> ScoringPlan:
        m = len(first)
        codes = n_channels + 1
        active = np.full((codes, m), -1, dtype=np.int64)
        count = np.zeros(codes, dtype=np.int64)
        const_group = np.zeros((codes, len(GROUPS)))
        at_zero = coef * (np.clip(0.0, lo, hi) - ref)  # a feature's contribution when its value is 0
        for k in range(-1, n_channels):
            for j in range(m):
                channels = [-s - 1 for s in (int(first[j]), int(second[j])) if NO_SOURCE != s < 0]
                if all(c == k for c in channels):
                    active[k + 1, count[k + 1]] = j
                    count[k + 1] += 1
                else:
                    const_group[k + 1, group[j]] += at_zero[j]
        base1 = np.where(first >= 0, first, -1).astype(np.int64)
        base2 = np.where(second >= 0, second, -1).astype(np.int64)
        plan = cls(active=active, active_count=count, base1=base1, base2=base2, const_group=const_group,
                   const_total=const_group.sum(axis=1))
        for a in (plan.active, plan.active_count, plan.base1, plan.base2, plan.const_group, plan.const_total):
            a.setflags(write=False)
        return plan


@dataclass(frozen=True)
class LinearModel:
    """What one batch is scored with: arrays for :func:`~aegis_scoring_model.kernels.score_kernel`.

    Immutable: a reload builds a new one and swaps the reference, so a batch sees one model.
    """

    spec: WeightsFile
    sha256: str
    path: str
    first: np.ndarray  # int64 source of each feature (see catalogue.FeatureRef)
    second: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    coef: np.ndarray  # weight / std: coefficient of the raw (clipped) value
    ref: np.ndarray  # the clip bound at which the feature's contribution is 0
    group: np.ndarray  # int64 index into catalogue.GROUPS
    logit_ref: float  # log-odds of the reference (least risky) payment
    channel_codes: dict[str, int]
    credit_channels: frozenset[str]
    thresholds: np.ndarray
    min_history: int
    plan: ScoringPlan

    @property
    def version(self) -> str:
        return f"sha256:{self.sha256}"

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.spec.features]

    @property
    def p_ref(self) -> float:
        """Probability of the reference payment: the model's score is its probability above this."""
        return 1.0 / (1.0 + math.exp(-self.logit_ref))

    def summary(self) -> str:
        t = self.spec.training
        where = t.get("data_set", "unknown data")
        return f"{self.spec.model_type}, {len(self.spec.features)} features, trained on {where}"


def _no_constants(text: str) -> float:
    raise ValueError(f"{text} is not a finite number")


def parse_weights(content: bytes, path: Path | str) -> LinearModel:
    """Check ``content`` (the bytes of the file at ``path``) and build the model; raises WeightsError."""
    where = str(path)
    try:
        raw = json.loads(content, parse_constant=_no_constants)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise WeightsError(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise WeightsError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise WeightsError(f"{where}: schema_version {raw.get('schema_version')!r} is not supported "
                           f"(this plugin reads {SCHEMA_VERSION})")
    try:
        spec = WeightsFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
                             for e in exc.errors(include_url=False))
        raise WeightsError(f"{where}: {problems}") from exc
    numbers = [spec.intercept] + [v for f in spec.features for v in (f.mean, f.std, f.weight, *f.clip)]
    numbers += spec.feature_settings.reporting_thresholds
    if not all(math.isfinite(v) for v in numbers):
        raise WeightsError(f"{where}: holds a NaN or infinite number")
    channels = spec.feature_settings.channels
    try:
        refs = [parse_feature(f.name, channels) for f in spec.features]
    except FeatureNameError as exc:
        raise WeightsError(f"{where}: feature mismatch: {exc}") from exc
    coef = np.array([f.weight / f.std for f in spec.features])
    lo = np.array([f.clip[0] for f in spec.features])
    hi = np.array([f.clip[1] for f in spec.features])
    ref = np.where(coef >= 0, lo, hi)
    mean = np.array([f.mean for f in spec.features])
    logit_ref = float(spec.intercept + np.sum(coef * (ref - mean)))
    if not math.isfinite(logit_ref) or not np.all(np.isfinite(coef)):
        raise WeightsError(f"{where}: weights overflow to a non-finite log-odds")
    arrays = [np.array([r.first for r in refs], dtype=np.int64), np.array([r.second for r in refs], dtype=np.int64),
              lo, hi, coef, ref, np.array([GROUP_INDEX[f.group] for f in spec.features], dtype=np.int64)]
    for a in arrays:
        a.setflags(write=False)
    thresholds = np.array(spec.feature_settings.reporting_thresholds, dtype=np.float64)
    thresholds.setflags(write=False)
    plan = ScoringPlan.build(arrays[0], arrays[1], len(channels), lo, hi, coef, ref, arrays[6])
    return LinearModel(spec=spec, sha256=hashlib.sha256(content).hexdigest(), path=where, first=arrays[0],
                       second=arrays[1], lo=lo, hi=hi, coef=coef, ref=ref, group=arrays[6], logit_ref=logit_ref,
                       channel_codes={name: i for i, name in enumerate(channels)},
                       credit_channels=frozenset(spec.feature_settings.credit_channels),
                       thresholds=thresholds, min_history=spec.feature_settings.min_history, plan=plan)


def read_weights(path: Path) -> LinearModel:
    """Read and check the weights file at ``path``; raises WeightsError."""
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read weights file: {exc.strerror}") from exc
    return parse_weights(content, path)


def dump_weights(spec: WeightsFile) -> bytes:
    """The canonical bytes of a weights file (indented JSON, keys in schema order, final newline)."""
    return (json.dumps(spec.model_dump(mode="json"), indent=1, allow_nan=False) + "\n").encode("utf-8")

