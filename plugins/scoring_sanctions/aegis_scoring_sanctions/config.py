"""The sanctions plugin's configuration: lists, thresholds, matching and evidence tuning, dispositions."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aegis_scoring_sanctions.evidence import EvidenceWeights
from aegis_scoring_sanctions.matcher import MatchSettings
from aegis_scoring_sanctions.readers.registry import GROUP, installed_formats
from aegis_scoring_sanctions.sources import ListSource


class ListConfig(BaseModel):
    """One sanctions list to load."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(description=f"reader format (entry point in {GROUP}): ofac-csv, ofac-cons-csv, un-xml, "
                                    "or a vendor's")
    path: Path = Field(description="the list: a folder (OFAC legacy CSV) or a file (UN XML)")
    version: str | None = Field(None, description="version string to record instead of the one read from "
                                                  "the files (e.g. OFAC-SDN-2021-07-07)")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        formats = installed_formats()
        if value not in formats:
            raise ValueError(f"no reader for list format {value!r}; installed: {', '.join(formats) or 'none'}")
        return value

    def source(self) -> ListSource:
        return ListSource(self.format, self.path, self.version)


class MatchingConfig(BaseModel):
    """How names are compared (defaults are the measured operating point; see docs/sanctions.md)."""

    model_config = ConfigDict(extra="forbid")

    token_similarity: float = Field(0.72, ge=0.5, le=1, description="least similarity (rapidfuzz OSA) for two "
                                                                    "name tokens to count as matching")
    phonetic_similarity: float = Field(0.86, ge=0.5, le=1, description="similarity given to tokens whose "
                                                                       "spelling or phonetic keys agree")
    weak_alias_penalty: float = Field(0.08, ge=0, le=1, description="score taken off matches on weak, "
                                                                    "low-quality aliases")
    person_entity_penalty: float = Field(0.15, ge=0, le=1, description="score taken off when an individual "
                                                                       "(a party with a date of birth) matches "
                                                                       "an organisation's name")
    max_postings: int = Field(1500, ge=10, description="a token found in more names than this adds candidates "
                                                       "only when the query has no rarer token")


class EvidenceConfig(BaseModel):
    """How date of birth and country move a name score."""

    model_config = ConfigDict(extra="forbid")

    dob_exact_bonus: float = Field(0.06, ge=0, le=0.5, description="added when the full date of birth matches")
    dob_year_bonus: float = Field(0.03, ge=0, le=0.5, description="added when the year of birth matches")
    dob_mismatch_penalty: float = Field(0.2, ge=0, le=1, description="taken off when every listed date of birth "
                                                                     "is further than the tolerance")
    dob_tolerance_years: int = Field(1, ge=0, le=10, description="years a date of birth may be off and not "
                                                                 "contradict")
    country_match_bonus: float = Field(0.02, ge=0, le=0.5, description="added when the party's country is "
                                                                       "among the entry's countries")
    country_mismatch_penalty: float = Field(0.04, ge=0, le=0.5, description="taken off when it is not")

    def weights(self) -> EvidenceWeights:
        return EvidenceWeights(**self.model_dump())


class SanctionsConfig(BaseModel):
    """Configuration of the ``sanctions`` scoring plugin."""

    model_config = ConfigDict(extra="forbid")

    lists: list[ListConfig] = Field(min_length=1, description="the lists to screen against")
    review_at: float = Field(0.84, gt=0, le=1, description="match score at or above which a payment is "
                                                           "investigated")
    block_at: float = Field(0.93, gt=0, le=1, description="match score at or above which a payment is blocked "
                                                          "(hard block, whatever the other factors)")
    review_factor_scores: tuple[float, float] = Field(
        (0.5, 0.79), description="SANCTIONS factor score at review_at and just below block_at (linear between): "
                                 "with the default decision thresholds this band investigates")
    parties: list[str] = Field(default_factory=lambda: ["debtor", "creditor"],
                               description="which parties' names are screened")
    dispositions: Path | None = Field(None, description="analysts' dispositions (YAML or CSV): confirmed false "
                                                        "positives that must not alert again")
    cache_size: int = Field(200_000, ge=0, description="screened names remembered (per list version); 0 turns "
                                                       "the cache off")
    details: bool = Field(True, description="explain matches in the decision records")
    matching: MatchingConfig = Field(default_factory=MatchingConfig, description="name comparison tuning")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="date of birth and country "
                                                                                 "evidence")

    @field_validator("parties")
    @classmethod
    def _parties(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"debtor", "creditor"})
        if unknown or not value:
            raise ValueError(f"parties are debtor and/or creditor, got {value!r}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> SanctionsConfig:
        if self.review_at >= self.block_at:
            raise ValueError(f"review_at ({self.review_at}) must be below block_at ({self.block_at})")
        low, high = self.review_factor_scores
        if not 0 < low <= high < 1:
            raise ValueError(f"review_factor_scores must satisfy 0 < low <= high < 1, got {low}, {high}")
        return self

    def settings(self) -> MatchSettings:
        return match_settings(self.matching, self.evidence, self.review_at)


def match_settings(matching: MatchingConfig, evidence: EvidenceConfig, review_at: float) -> MatchSettings:
    """The matcher's settings from the plugin's ``matching`` and ``evidence`` sections."""
    m = matching
    return MatchSettings(token_similarity=m.token_similarity, phonetic_similarity=m.phonetic_similarity,
                         weak_alias_penalty=m.weak_alias_penalty, person_entity_penalty=m.person_entity_penalty,
                         max_postings=m.max_postings, floor=min(0.6, review_at), evidence=evidence.weights())


#: The default operating point (what ``aegis sanctions screen`` and the benchmark use).
DEFAULT_REVIEW_AT: float = SanctionsConfig.model_fields["review_at"].default
DEFAULT_BLOCK_AT: float = SanctionsConfig.model_fields["block_at"].default


def default_settings() -> MatchSettings:
    return match_settings(MatchingConfig(), EvidenceConfig(), DEFAULT_REVIEW_AT)
