"""The active rule set: thresholds, the selected FATF list, its lookup table and the version that names them.

A rule set is immutable; a reload builds a new one and swaps the reference, so a batch is scored
with one rule set (thresholds and list together) from start to end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.explain import Phrases
from aegis_scoring_rules.fatf import FatfList, parse_fatf_list, read_fatf_list
from aegis_scoring_rules.thresholds import apply_thresholds

#: Bumped whenever the kernels' semantics change, so equal configs on different code differ in version.
ALGORITHM = 1


def rules_version(config: RulesConfig, fatf: FatfList) -> str:
    """``sha256:<hex>`` over the canonical JSON of the effective configuration and the FATF file bytes.

    The file's location and the ``details`` switch do not change any score, so they are left out;
    the list date actually selected is put in.
    """
    effective = config.model_dump(mode="json", exclude={"details": True, "thresholds": True, "geo": {"fatf_list"}})
    effective["algorithm"] = ALGORITHM
    effective["geo"]["selected_list"] = fatf.as_of.isoformat()
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(fatf.content)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class RuleSet:
    """What one batch is scored with, besides the per-account state."""

    config: RulesConfig  # effective: the thresholds file's sections in force
    fatf: FatfList
    geo_table: np.ndarray  # float64[676]: GEO score per packed country code
    window_ns: np.ndarray  # int64 per velocity window
    max_count: np.ndarray  # float64 per window, inf when unlimited
    max_sum: np.ndarray  # float64 per window, inf when unlimited
    large_amount: float  # inf when off
    rules_version: str
    thresholds: bytes | None = None  # the thresholds file's bytes in force
    #: what its explanations share, formatted once
    phrases: Phrases = field(init=False, repr=False, compare=False)
    #: the rule set's arguments to :func:`~aegis_scoring_rules.kernels.score_kernel`, in order
    kernel_args: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        v, a = self.config.velocity, self.config.amount
        object.__setattr__(self, "phrases", Phrases.build(self.config, self.fatf, self.geo_table))
        object.__setattr__(self, "kernel_args", (self.window_ns, self.max_count, self.max_sum, v.ramp_from,
                                                 a.min_history, a.z_start, a.z_full, a.min_std, self.large_amount,
                                                 self.geo_table))

    @property
    def thresholds_sha256(self) -> str | None:
        return None if self.thresholds is None else hashlib.sha256(self.thresholds).hexdigest()

    @property
    def fatf_list_version(self) -> str:
        return self.fatf.version

    @cached_property
    def versions(self) -> dict[str, str]:
        """What every result scored with this rule set carries (one dict, shared: do not modify)."""
        return {"rules_version": self.rules_version, "fatf_list_version": self.fatf.version}

    @classmethod
    def build(cls, config: RulesConfig, fatf: FatfList, thresholds: bytes | None = None) -> RuleSet:
        table = fatf.table(config.geo.status_scores)
        windows = config.velocity.windows
        arrays = (np.array([w.ns for w in windows], dtype=np.int64),
                  np.array([np.inf if w.max_count is None else w.max_count for w in windows], dtype=np.float64),
                  np.array([np.inf if w.max_sum is None else w.max_sum for w in windows], dtype=np.float64))
        for a in (table, *arrays):
            a.setflags(write=False)
        large = config.amount.large_amount
        return cls(config=config, fatf=fatf, geo_table=table, window_ns=arrays[0], max_count=arrays[1],
                   max_sum=arrays[2], large_amount=np.inf if large is None else float(large),
                   rules_version=rules_version(config, fatf), thresholds=thresholds)

    @classmethod
    def load(cls, config: RulesConfig, content: bytes | None = None, path: Path | None = None,
             thresholds: bytes | None = None, ring_size: int | None = None) -> RuleSet:
        """Read (or parse ``content`` of) the FATF list and apply the thresholds file.

        ``thresholds`` are the thresholds file's bytes (read from ``config.thresholds`` when omitted).
        Raises FatfListError or ThresholdsError.
        """
        if thresholds is None and config.thresholds is not None:
            thresholds = Path(config.thresholds).read_bytes()
        config = apply_thresholds(config, thresholds, config.thresholds, ring_size)
        geo = config.geo
        path = path or geo.fatf_list
        fatf = (read_fatf_list(path, geo.status_scores, geo.as_of) if content is None
                else parse_fatf_list(content, path, geo.status_scores, geo.as_of))
        return cls.build(config, fatf, thresholds)
