"""The decision rule: factor scores → risk, decision, reason code and explanation.

risk = min(1, Σ weight(f) · score(f)) over every factor every scoring plugin returned.
``risk ≥ block_at`` blocks, ``risk ≥ investigate_at`` investigates, a factor's hard block
(e.g. a sanctions match at or above its own threshold) blocks whatever the risk. The reason
code is that of the largest contribution (of the hard-blocking factor when there is one).
A scoring plugin that failed makes its batch at least INVESTIGATE with
``RC_SCREENING_ERROR``: an error never becomes CLEAR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aegis.model import RC_CLEAR, RC_SCREENING_ERROR, Batch, Decision, ScoreResult, utc_now

DECISION_NAMES = ("CLEAR", "INVESTIGATE", "BLOCK")
#: Version keys that get a top-level field in every record (the operator guide's export fields).
TOP_LEVEL_VERSIONS = ("model_version_hash", "rules_version", "sanctions_list_version")


class DecisionConfig(BaseModel):
    """Thresholds and factor weights (YAML section ``decision``)."""

    model_config = ConfigDict(extra="forbid")

    investigate_at: float = Field(0.5, ge=0, le=1, description="risk at or above which a payment is investigated")
    block_at: float = Field(0.8, ge=0, le=1, description="risk at or above which a payment is blocked")
    weights: dict[str, float] = Field(
        default_factory=lambda: {"VELOCITY": 0.35, "AMOUNT": 0.35, "GEO": 0.5, "BEHAVIOUR": 0.5,
                                 "SANCTIONS": 1.0},
        description="factor name → weight of its score in the risk",
    )
    default_weight: float = Field(0.5, ge=0, description="weight of a factor not listed in `weights`")

    @model_validator(mode="after")
    def _ordered(self) -> DecisionConfig:
        if self.investigate_at > self.block_at:
            raise ValueError(f"investigate_at ({self.investigate_at}) must be <= block_at ({self.block_at})")
        return self

    def weight(self, factor: str) -> float:
        return self.weights.get(factor, self.default_weight)


@dataclass
class Decisions:
    """Decisions of one batch, as columns, with each record's canonical JSON on demand."""

    batch: Batch
    risk: np.ndarray
    decision: np.ndarray  # int8 values of :class:`Decision`
    reason_code: list[str]
    factor_names: list[str]
    scores: np.ndarray  # (n, factors)
    contributions: np.ndarray  # (n, factors)
    details: dict[str, list[str | None]]
    error_mask: np.ndarray
    errors: list[str]
    versions: dict[str, str]
    thresholds: dict[str, float]
    timestamp: str
    provenance: dict = field(default_factory=dict)  # run id, snapshots in force, weights used
    #: per decision, where its zero-knowledge proof will be found (``aegis_proving_reference``)
    proof_refs: list[str | None] | None = None
    _lines: list[bytes] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.risk)

    @property
    def uetr(self) -> list[str]:
        return self.batch.uetr

    def counts(self) -> tuple[int, int, int]:
        """Number of CLEAR, INVESTIGATE and BLOCK decisions."""
        c = np.bincount(self.decision, minlength=3)
        return int(c[0]), int(c[1]), int(c[2])

    def record(self, i: int) -> dict:
        """Record ``i`` as a mapping (the transaction as parsed JSON)."""
        return orjson.loads(self.lines()[i])

    def lines(self) -> list[bytes]:
        """Canonical JSON of every record (no trailing newline), computed once per batch."""
        if self._lines is None:
            self._lines = self._render()
        return self._lines

    def _render(self) -> list[bytes]:
        """Every record as bytes, members in a fixed order, without building one dict per record.

        What the whole batch shares is serialised once; so is each distinct factor block (all zero
        for most payments), risk score, decision and reason code.
        """
        names = self.factor_names
        dumps = orjson.dumps
        common = {k: v for k, v in self.versions.items() if k in TOP_LEVEL_VERSIONS}
        shared = dumps({"timestamp": self.timestamp, **common,
                        "versions": {k: v for k, v in self.versions.items() if k not in TOP_LEVEL_VERSIONS},
                        "thresholds": self.thresholds, **self.provenance})[1:-1]
        errors = dumps(self.errors)
        tail = b"," + shared + b',"transaction":'
        canonical = self.batch.canonical_json()
        # + 0.0 turns -0.0 into 0.0: values equal as numbers must be written alike (they share texts)
        contributions = np.round(self.contributions, 6) + 0.0
        scores = np.round(self.scores, 6) + 0.0
        quiet = (~(contributions.any(axis=1) | scores.any(axis=1))).tolist()
        contributions, scores = contributions.tolist(), scores.tolist()
        zero = dumps(dict.fromkeys(names, 0.0))
        zero_factors = b'"risk_factors":' + zero + b',"factor_scores":' + zero
        risk = (np.round(self.risk, 6) + 0.0).tolist()
        risk_texts = {r: dumps(r) for r in set(risk)}
        factor_texts: dict[tuple[float, ...], bytes] = {}  # scores repeat: each distinct block written once
        decision = self.decision.tolist()
        error_mask = self.error_mask.tolist()
        details = list(self.details.items())
        origins = self.batch.origins
        refs = self.proof_refs
        codes = {c: dumps(c) for c in set(self.reason_code)}
        verdicts = [dumps(name) for name in DECISION_NAMES]
        out = []
        append = out.append
        for i, uetr in enumerate(self.batch.uetr):
            if quiet[i]:
                factors = zero_factors
            else:
                key = (*contributions[i], *scores[i])
                factors = factor_texts.get(key)
                if factors is None:
                    factors = factor_texts[key] = (
                        b'"risk_factors":' + dumps(dict(zip(names, contributions[i], strict=True)))
                        + b',"factor_scores":' + dumps(dict(zip(names, scores[i], strict=True))))
            explanation = {f: d[i] for f, d in details if d[i]}
            ref = b"" if refs is None or refs[i] is None else b',"proof_ref":' + dumps(refs[i])
            append(b"".join((
                b'{"uetr":', dumps(uetr), b',"decision":', verdicts[decision[i]],
                b',"reason_code":', codes[self.reason_code[i]], b',"risk_score":', risk_texts[risk[i]], b",", factors,
                b',"explanation":', dumps(explanation) if explanation else b"{}", b',"origin":', dumps(origins[i]),
                ref, b',"errors":', errors if error_mask[i] else b"[]", tail, canonical[i], b"}")))
        return out


def decide(batch: Batch, results: Sequence[tuple[str, ScoreResult | BaseException]],
           config: DecisionConfig, provenance: dict | None = None) -> Decisions:
    """Combine the scoring plugins' results (in YAML order) into the batch's decisions.

    ``results`` pairs each plugin's name with its :class:`ScoreResult`, or with the exception
    it raised; a failed plugin sends the whole batch to at least INVESTIGATE.
    """
    n = batch.n
    names: list[str] = []
    columns: list[np.ndarray] = []
    reasons: list[str] = []
    hard = np.zeros(n, dtype=bool)
    hard_factor = np.empty(n, dtype=np.int64)
    hard_factor.fill(-1)
    details: dict[str, list[str | None]] = {}
    versions: dict[str, str] = {}
    errors: list[str] = []
    for plugin, result in results:
        if isinstance(result, BaseException):
            errors.append(f"{plugin}: {type(result).__name__}: {result}")
            continue
        versions.update(result.versions)
        for factor, fs in result.factors.items():
            if factor in names:
                errors.append(f"{plugin}: factor {factor} is also returned by an earlier plugin; factor names "
                              f"must be unique across the deployment's scoring plugins")
                continue
            scores = np.asarray(fs.scores, dtype=np.float64)
            if scores.shape != (n,):
                errors.append(f"{plugin}: factor {factor} returned {scores.shape} scores for {n} transactions")
                continue
            if not np.isfinite(scores).all():
                errors.append(f"{plugin}: factor {factor} returned non-finite scores")
                continue
            index = len(names)
            names.append(factor)
            columns.append(np.minimum(np.maximum(scores, 0.0), 1.0))
            reasons.append(fs.reason_code)
            if fs.details is not None:
                details[factor] = list(fs.details)
            if fs.hard_block is not None:
                blocked = np.asarray(fs.hard_block, dtype=bool) & ~hard
                hard_factor[blocked] = index
                hard |= blocked
    scores = np.ascontiguousarray(np.array(columns).T) if columns else np.zeros((n, 0))
    weights = np.array([config.weight(f) for f in names], dtype=np.float64)
    contributions = scores * weights
    risk = np.minimum(contributions.sum(axis=1), 1.0) if names else np.zeros(n)
    decision = np.where(risk >= config.block_at, Decision.BLOCK,
                        np.where(risk >= config.investigate_at, Decision.INVESTIGATE, Decision.CLEAR))
    decision = np.where(hard, Decision.BLOCK, decision).astype(np.int8)
    error_mask = np.ones(n, dtype=bool) if errors else np.zeros(n, dtype=bool)
    if errors:
        decision = np.maximum(decision, Decision.INVESTIGATE).astype(np.int8)

    top = contributions.argmax(axis=1) if names else np.zeros(n, dtype=np.int64)
    top = np.where(hard_factor >= 0, hard_factor, top)
    reason_code = [
        RC_CLEAR if d == Decision.CLEAR
        else RC_SCREENING_ERROR if (e and not h)
        else reasons[t] if names else RC_SCREENING_ERROR
        for d, t, e, h in zip(decision.tolist(), top.tolist(), error_mask.tolist(), hard.tolist(), strict=False)
    ]
    return Decisions(
        batch=batch, risk=risk, decision=decision, reason_code=reason_code, factor_names=names,
        scores=scores, contributions=contributions, details=details, error_mask=error_mask, errors=errors,
        versions=versions,
        thresholds={"investigate_at": config.investigate_at, "block_at": config.block_at},
        provenance={**(provenance or {}), "weights": dict(zip(names, weights.tolist(), strict=True))},
        timestamp=utc_now().isoformat(timespec="microseconds").replace("+00:00", "Z"),
    )
