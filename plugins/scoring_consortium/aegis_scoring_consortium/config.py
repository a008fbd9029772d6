"""The ``consortium`` scoring plugin's configuration."""

from __future__ import annotations

from pathlib import Path

from aegis_zkp_groth16.circuit import N_FEATURES, THRESHOLD_BITS, WEIGHT_BITS
from aegis_zkp_groth16.consortium import MEMBER_ID
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class ConsortiumConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[Path] = Field(min_length=1, description="peers' signal feeds: JSONL files, or directories whose "
                                                        "*.jsonl files are read; lines appended later are picked "
                                                        "up without restart")
    verification_key: Path = Field(description="verification_key.bin from the consortium's trusted set-up")
    verification_key_signature: Path | None = Field(
        None, description="its signature (default: verification_key.sig next to verification_key); checked "
                          "with setup_key at startup, which is refused on a mismatch")
    setup_key: Path = Field(description="PEM public key that signed the verification key at the ceremony "
                                        "(its fingerprint is the `Signing key:` line of ceremony_log.txt)")
    members: dict[str, Path] = Field(min_length=1, description="consortium member id -> PEM public key its "
                                                                "signals are signed with; other issuers are "
                                                                "rejected")
    pseudonym_key: SecretStr = Field(description='the consortium\'s shared pseudonym key; write {"$secret": name} '
                                                 "so the secrets plugin supplies it (at least 32 characters)")
    min_risk: float = Field(0.8, ge=0, le=1, description="signals must prove a threshold at or above this risk "
                                                         "(threshold ≥ min_risk · 2^threshold_scale_bits)")
    threshold_scale_bits: int = Field(36, ge=0, lt=THRESHOLD_BITS,
                                      description="fixed-point scale of the proved threshold: the publishers' "
                                                  "feature_scale_bits + weight_scale_bits (20 + 16)")
    max_age_hours: float = Field(24 * 30, gt=0, description="a signal flags payments created up to this long "
                                                            "after it was issued (judged by the payment's own "
                                                            "time, never the clock, so a replay decides alike)")
    max_skew_seconds: float = Field(300, ge=0, description="... and payments created up to this long before it "
                                                           "was issued (clock skew between members)")
    max_signals: int = Field(200_000, ge=1, description="accepted signals kept; beyond it the oldest (by issue "
                                                        "time) are dropped")
    model_digest: str | None = Field(None, pattern=r"^sha256:[0-9a-f]{64}$",
                                     description="pin the public model: accept only signals naming this "
                                                 "digest (the publishers' PublicModel.digest())")
    model_weights: list[int] | None = Field(
        None, max_length=N_FEATURES, description="pin the public model's integer weights (the public inputs "
                                                 "w[0..7]; shorter lists are padded with 0): accept only proofs "
                                                 "under exactly these weights")
    score: float = Field(1.0, gt=0, le=1, description="the CONSORTIUM score of a payment whose debtor or "
                                                      "creditor a valid signal names")
    reload_interval: float = Field(5.0, ge=0, description="least seconds between two reads of the feeds "
                                                          "(aegis_reload checks more often)")
    verify_in_background: bool = Field(True, description="verify new signals' proofs in a worker process (a "
                                                         "reload never stalls screening); false: verify in the "
                                                         "reload itself. Startup always verifies before "
                                                         "screening starts")
    details: bool = Field(True, description="explain flagged payments (issuer, signal id, role, count)")

    @field_validator("members")
    @classmethod
    def _member_ids(cls, members: dict[str, Path]) -> dict[str, Path]:
        bad = [m for m in members if not MEMBER_ID.match(m)]
        if bad:
            raise ValueError(f"member ids {bad} must match {MEMBER_ID.pattern}")
        return members

    @field_validator("model_weights")
    @classmethod
    def _weights(cls, weights: list[int] | None) -> list[int] | None:
        if weights is not None and any(not 0 <= w < 1 << WEIGHT_BITS for w in weights):
            raise ValueError(f"model_weights must lie in [0, 2^{WEIGHT_BITS})")
        return weights

    @property
    def signature_path(self) -> Path:
        return self.verification_key_signature or self.verification_key.with_name("verification_key.sig")

    @property
    def min_threshold(self) -> int:
        """The smallest acceptable proved threshold, as the publishers compute it (PublicModel.threshold)."""
        return int(self.min_risk * (1 << self.threshold_scale_bits))
