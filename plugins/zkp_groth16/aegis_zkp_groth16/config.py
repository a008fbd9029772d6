"""The ``groth16`` proving plugin's configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


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
