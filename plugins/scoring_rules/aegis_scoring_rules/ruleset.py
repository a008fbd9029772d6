"""The active rule set: the selected FATF list, its lookup table and the version that names both.

A rule set is immutable; a reload builds a new one and swaps the reference, so a batch is scored
with one rule set from start to end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.fatf import FatfList, parse_fatf_list, read_fatf_list

#: Bumped whenever the kernels' semantics change, so equal configs on different code differ in version.
ALGORITHM = 1


def rules_version(config: RulesConfig, fatf: FatfList) -> str:
    """``sha256:<hex>`` over the canonical JSON of the effective configuration and the FATF file bytes.

    The file's location and the ``details`` switch do not change any score, so they are left out;
    the list date actually selected is put in.
    """
    effective = config.model_dump(mode="json", exclude={"details": True, "geo": {"fatf_list"}})
    effective["algorithm"] = ALGORITHM
    effective["geo"]["selected_list"] = fatf.as_of.isoformat()
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(fatf.content)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class RuleSet:
    """What one batch is scored with, besides the per-account state."""

    fatf: FatfList
    geo_table: np.ndarray  # float64[676]: GEO score per packed country code
    rules_version: str

    @property
    def fatf_list_version(self) -> str:
        return self.fatf.version

    @property
    def versions(self) -> dict[str, str]:
        return {"rules_version": self.rules_version, "fatf_list_version": self.fatf.version}

    @classmethod
    def build(cls, config: RulesConfig, fatf: FatfList) -> RuleSet:
        table = fatf.table(config.geo.status_scores)
        table.setflags(write=False)
        return cls(fatf=fatf, geo_table=table, rules_version=rules_version(config, fatf))

    @classmethod
    def load(cls, config: RulesConfig, content: bytes | None = None, path: Path | None = None) -> RuleSet:
        """Read (or parse ``content`` of) the configured FATF list file; raises FatfListError."""
        geo = config.geo
        path = path or geo.fatf_list
        fatf = (read_fatf_list(path, geo.status_scores, geo.as_of) if content is None
                else parse_fatf_list(content, path, geo.status_scores, geo.as_of))
        return cls.build(config, fatf)
