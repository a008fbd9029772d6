"""The ``groth16`` proving plugin's configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from aegis_zkp_groth16.consortium import MEMBER_ID, Role


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


class ConsortiumPublishing(BaseModel):
    """Publishing a signed consortium signal for every proved decision (docs/zkp.md, "Consortium signals")."""

    model_config = ConfigDict(extra="forbid")

    member_id: str = Field(pattern=MEMBER_ID.pattern, description="this bank's consortium member id: the signals' "
                                                                  "issuer, as peers list it under `members`")
    pseudonym_key: SecretStr = Field(description='the consortium\'s shared pseudonym key (at least 32 characters, '
                                                 'e.g. `openssl rand -hex 32`); write {"$secret": name} so the '
                                                 "secrets plugin supplies it")
    signing_key: str = Field("consortium", description="secrets-plugin signing key the signals are signed with; "
                                                       "peers register its public key for member_id")
    roles: list[Role] = Field(default_factory=lambda: ["creditor"], min_length=1,
                              description="which parties of a proved payment are published: creditor, debtor "
                                          "or both (one signal each)")
    outbox: Path = Field(Path("var/zkp/consortium_outbox.jsonl"),
                         description="JSONL feed the signals are appended to (one signed signal per line); "
                                     "ship it to the peers, who list it under `feeds`")

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError(f"roles {roles} name a role twice")
        return roles


class Groth16Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_dir: Path = Field(Path("var/zkp"), description="directory holding proving_key.bin, verification_key.bin "
                                                       "and verification_key.sig from `aegis trusted-setup`")
    signing_key: str = Field("zkp", description="secrets-plugin signing key the verification key is signed with")
    prove_investigate: bool = Field(False, description="also prove INVESTIGATE decisions (BLOCK always)")
    workers: int = Field(default_factory=lambda: _env_int("AEGIS_ZKP_WORKERS", 1), ge=1, le=64,
                         description="prover worker processes (AEGIS_ZKP_WORKERS wins over the default 1)")
    prover_backend: Literal["auto", "numba", "python"] = Field(
        "auto", description="prover arithmetic: numba kernels, pure Python (the test oracle), or auto "
                            "(numba when it imports and compiles, else Python)")
    queue_size: int = Field(1024, ge=1, description="bound of the proof-request queue")
    overflow: Literal["drop_new", "drop_oldest"] = Field(
        "drop_new", description="when the queue is full: drop the new request or the oldest queued one "
                                "(either way aegis_zkp_dropped_total counts it)")
    database: Path = Field(Path("var/zkp/aegis_zkp.db"), description="SQLite file the proofs are stored in")
    retention_hours: float = Field(default_factory=lambda: float(_env_int("AEGIS_ZKP_RETENTION_HOURS", 24 * 90)),
                                   gt=0, description="proofs older than this are deleted "
                                                     "(AEGIS_ZKP_RETENTION_HOURS wins over 2160)")
    metrics_port: int | None = Field(9091, ge=0, le=65535,
                                     description="Prometheus port for the aegis_zkp_* metrics; null: no server")
    feature_scale_bits: int = Field(20, ge=1, le=31, description="a factor score s in [0, 1] becomes the "
                                                                 "32-bit feature round(s · 2^bits)")
    weight_scale_bits: int = Field(16, ge=1, le=23, description="a decision weight becomes round(w · 2^bits) "
                                                               "(must stay below 2^24)")
    weights: dict[str, float] = Field(
        default_factory=lambda: {"VELOCITY": 0.35, "AMOUNT": 0.35, "GEO": 0.5, "SANCTIONS": 1.0},
        description="the public model: weight per factor (the deployment's decision weights)")
    default_weight: float = Field(0.5, ge=0, description="weight of factors not listed in weights")
    consortium: ConsortiumPublishing | None = Field(
        None, description="publish a signed consortium signal for each proof; null: no publishing")
