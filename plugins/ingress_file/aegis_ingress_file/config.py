"""The file source's configuration section."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from aegis.model import ISO_COUNTRIES, ISO_CURRENCIES

Format = Literal["jsonl", "csv", "paysim"]
#: File suffix → format, when ``format`` is not given.
SUFFIX_FORMATS: dict[str, Format] = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
#: Fixed namespace of PaySim UETRs (uuid5), so every installation derives the same ones.
PAYSIM_UETR_NAMESPACE = uuid.UUID("5b0c3f1e-8a42-5d6e-9c17-2f4a6b8d0e13")


def format_from_suffix(path: Path) -> Format | None:
    return SUFFIX_FORMATS.get(path.suffix.lower())


class FileIngressConfig(BaseModel):
    """Replay a JSONL, CSV or PaySim file (or a directory of PaySim part files)."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="the file to replay; for format paysim also a directory of rawLog.part*.csv")
    format: Format | None = Field(
        None, description="jsonl, csv or paysim; default from the suffix (.jsonl/.json/.ndjson → jsonl, "
                          ".csv → csv, a .csv with PaySim's header or a directory → paysim)")
    resume: bool = Field(True, description="continue after the last acknowledged record of a previous run")
    state_name: str | None = Field(
        None, description="file name of the resume position in the state directory; default derived from "
                          "the absolute path (sha256 prefix) and the file name")
    currency: str = Field("EUR", description="paysim: ISO 4217 currency of the amounts (PaySim has none)")
    start: AwareDatetime = Field(
        datetime(2026, 1, 1, tzinfo=UTC),
        description="paysim: time of step 0; a row of step s is created at start + s hours + its rank in "
                    "the step in seconds")
    country: str | None = Field(
        None, description="paysim: ISO 3166-1 alpha-2 country for both parties; PaySim has none, so by "
                          "default none is set")
    uetr_namespace: uuid.UUID = Field(
        PAYSIM_UETR_NAMESPACE,
        description="paysim: namespace of the derived UETRs, uuid5(namespace, '<file name>:<line number>')")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in ISO_CURRENCIES:
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and value not in ISO_COUNTRIES:
            raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
        return value

    @field_validator("start")
    @classmethod
    def _on_the_hour(cls, value: datetime) -> datetime:
        utc = value.astimezone(UTC)
        if utc.minute or utc.second or utc.microsecond:
            raise ValueError(f"must be on a whole hour in UTC (PaySim steps are hours), got {utc.isoformat()}")
        return utc

    @field_validator("state_name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or "/" in value or "\\" in value or value in (".", "..")):
            raise ValueError(f"must be a plain file name inside the state directory, got {value!r}")
        return value

    @model_validator(mode="after")
    def _format_known(self) -> FileIngressConfig:
        if self.format is None and format_from_suffix(self.path) is None and not self.path.is_dir():
            raise ValueError(f"cannot tell the format of {self.path} from its suffix "
                             f"({', '.join(SUFFIX_FORMATS)}); set format: jsonl, csv or paysim")
        if self.format in ("jsonl", "csv") and self.path.is_dir():
            raise ValueError(f"{self.path} is a directory; only format paysim reads a directory of part files")
        return self
