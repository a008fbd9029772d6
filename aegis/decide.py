"""The decision rule: factor scores → risk, decision, reason code and explanation.

risk = min(1, Σ weight(f) · score(f)) over every factor every scoring plugin returned.
``risk ≥ block_at`` blocks, ``risk ≥ investigate_at`` investigates, a factor's hard block
(e.g. a sanctions match at or above its own threshold) blocks whatever the risk. The reason
code is that of the largest contribution (of the hard-blocking factor when there is one).
A scoring plugin that failed makes its batch at least INVESTIGATE with
``RC_SCREENING_ERROR``: an error never becomes CLEAR.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from aegis.model import RC_CLEAR, RC_SCREENING_ERROR, Batch, Decision, ScoreResult, utc_timestamp

DECISION_NAMES = ("CLEAR", "INVESTIGATE", "BLOCK")
#: :class:`Decision` values as plain ints: numpy takes these without an enum's overhead
CLEAR, INVESTIGATE, BLOCK = int(Decision.CLEAR), int(Decision.INVESTIGATE), int(Decision.BLOCK)
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
    #: weight rows by factor names, with the weights they were made from (:meth:`weight_row`)
    _rows: dict[tuple[str, ...], tuple[dict[str, float], float, np.ndarray]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> DecisionConfig:
        if self.investigate_at > self.block_at:
            raise ValueError(f"investigate_at ({self.investigate_at}) must be <= block_at ({self.block_at})")
        return self

    def weight(self, factor: str) -> float:
        return self.weights.get(factor, self.default_weight)

    def weight_row(self, names: tuple[str, ...]) -> np.ndarray:
        """The weights of ``names`` as one (read-only) row, kept per tuple of names: a deployment's
        batches all carry the same factors."""
        found = self._rows.get(names)
        if found is None or found[0] != self.weights or found[1] != self.default_weight:
            row = np.array([self.weight(f) for f in names], dtype=np.float64)
            row.flags.writeable = False
            found = self._rows[names] = (dict(self.weights), self.default_weight, row)
        return found[2]


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

    def summaries(self) -> list[bytes]:
        """Every record without its transaction: what a caller that sent the transaction is
        answered (the sidecar's replies). The transaction is the last member of each rendered
        line (``,"transaction":`` + its canonical JSON + ``}``), so this cuts it off."""
        cut = len(_TRANSACTION) + 1
        return [line[:-(len(tx) + cut)] + b"}" for line, tx in zip(self.lines(), self.batch.canonical_json(),
                                                                    strict=True)]

    def _render(self) -> list[bytes]:
        """Every record as bytes, members in a fixed order, without building one dict per record.

        Each record is one join of pieces made for the whole batch at once: what every record shares
        is serialised once, uetrs, origins and factor values in one orjson call each (see :meth:`_head`).
        """
        n = len(self.batch.uetr)
        if not n:
            return []
        dumps = orjson.dumps
        top: dict[str, str] = {}  # versions with a field of their own, then the others
        others: dict[str, str] = {}
        for k, v in self.versions.items():
            (top if k in TOP_LEVEL_VERSIONS else others)[k] = v
        shared = dumps({"timestamp": self.timestamp, **top, "versions": others, "thresholds": self.thresholds,
                        **self.provenance})[1:-1]
        tail = b"," + shared + _TRANSACTION
        passed, failed = b',"errors":[]' + tail, b',"errors":' + dumps(self.errors) + tail
        rest = map((passed, failed).__getitem__, np.asarray(self.error_mask, dtype=bool).tolist())
        refs = self.proof_refs
        if refs is None:
            proofs: Iterable[bytes] = repeat(b"", n)
        else:  # the references in order, none for a record without one
            texts = map(b',"proof_ref":'.__add__, _json_values([r for r in refs if r is not None]))
            proofs = [b"" if r is None else next(texts) for r in refs]
        return list(map(b"".join, zip(
            repeat(b'{"uetr":', n), _json_values(self.batch.uetr), *self._head(), self._explanations(n),
            _json_values(self.batch.origins), proofs, rest, self.batch.canonical_json(), repeat(b"}", n),
            strict=True)))

    def _head(self) -> list[Iterator[bytes]]:
        """Columns of pieces whose join is, per record, its members from ``,"decision":`` to ``"explanation":``.

        Risk and factor values are rounded to 6 decimals (``+ 0.0`` turns -0.0 into 0.0: values equal
        as numbers are written alike) and written by one orjson call. Most payments score 0 on every
        factor: a large batch with few distinct rows of values writes each distinct row once.
        """
        columns, after = _layout(tuple(self.factor_names))
        values = np.concatenate((self.risk[:, None], self.contributions, self.scores), axis=1)
        if columns is not None:
            values = values[:, columns]
        values.round(6, out=values)  # np.round, without its dispatch
        values += 0.0
        codes = {}
        for code in set(self.reason_code):
            codes[code] = orjson.dumps(code) + b',"risk_score":'
        head = [map(_VERDICTS.__getitem__, self.decision.tolist()), map(codes.__getitem__, self.reason_code)]
        groups = _groups(values) if len(values) >= GROUP_AT else None
        if groups is not None:
            values = values[groups[0]]
        # numpy and Python floats are written alike; each value is followed by the text after it
        pieces = [b""] * (2 * values.size)
        pieces[::2] = orjson.dumps(values.ravel(), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
        pieces[1::2] = after * len(values)
        rows = [iter(pieces)] * (2 * values.shape[1])  # zip takes a row's pieces from one iterator in turn
        if groups is None:
            return [*head, *rows]
        texts = list(map(b"".join, zip(*rows, strict=True)))
        return [*head, map(texts.__getitem__, groups[1])]

    def _explanations(self, n: int) -> list[bytes]:
        """Each record's explanation (its factors' details, when any) followed by ``,"origin":``.

        Only the records with a detail (few) are looked at."""
        found: dict[int, dict[str, str]] = {}  # record → its explanation
        for f, d in self.details.items():
            if len(d) < n:
                raise IndexError("a factor has fewer details than the batch has records")
            if any(d):
                for i in compress(range(n), d):
                    found.setdefault(i, {})[f] = d[i]
        out = [b'{},"origin":'] * n
        for i, explanation in found.items():
            out[i] = orjson.dumps(explanation) + b',"origin":'
        return out


#: What precedes the transaction, the last member of every record.
_TRANSACTION = b',"transaction":'
#: From this many records a batch writes each distinct row of factor values once (:meth:`Decisions._head`).
GROUP_AT = 64
_VERDICTS = [b',"decision":' + orjson.dumps(name) + b',"reason_code":' for name in DECISION_NAMES]


@functools.lru_cache(maxsize=64)
def _layout(names: tuple[str, ...]) -> tuple[list[int] | None, list[bytes]]:
    """The columns of a row (risk, contributions, scores) written, ``None`` for all (a repeated name: first
    place, last value, as in a dict), and the text after each value written."""
    orjson.dumps(dict.fromkeys(names))  # a name that is not a string fails here as in a record
    last = {name: j for j, name in enumerate(names)}
    if not last:
        return None, [b',"risk_factors":{},"factor_scores":{},"explanation":']
    keys = [orjson.dumps(name) + b":" for name in last]
    between = [b"," + key for key in keys[1:]]
    k = len(names)
    columns = None if len(last) == k else [0, *(1 + j for j in last.values()), *(1 + k + j for j in last.values())]
    return columns, [b',"risk_factors":{' + keys[0], *between, b'},"factor_scores":{' + keys[0], *between,
                     b'},"explanation":']


def _json_values(values: list) -> list[bytes]:
    """``orjson.dumps`` of each value: cut from one call for the whole list when no value's JSON has a comma."""
    parts = orjson.dumps(values)[1:-1].split(b",")
    return parts if len(parts) == len(values) else list(map(orjson.dumps, values))


def _groups(rows: np.ndarray) -> tuple[list[int], list[int]] | None:
    """The first row of each distinct row and each row's group (an index into those), or ``None`` when
    at least half the rows are distinct (grouping would not pay).

    Rows are told apart by a hash of their bits, checked exactly (a collision also gives ``None``).
    """
    multipliers = np.arange(1, 2 * rows.shape[1], 2, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    _, first, inverse = np.unique((rows.view(np.uint64) * multipliers).sum(axis=1),
                                  return_index=True, return_inverse=True)
    if 2 * len(first) >= len(rows) or not np.array_equal(rows[first][inverse], rows):
        return None
    return first.tolist(), inverse.tolist()


def decide(batch: Batch, results: Sequence[tuple[str, ScoreResult | BaseException]],
           config: DecisionConfig, provenance: dict | None = None) -> Decisions:
    """Combine the scoring plugins' results (in YAML order) into the batch's decisions.

    ``results`` pairs each plugin's name with its :class:`ScoreResult`, or with the exception
    it raised; a failed plugin sends the whole batch to at least INVESTIGATE.

    Few numpy calls per batch, on plain ints (not :class:`Decision`): the sidecar's batches hold
    one payment, and there numpy's per-call cost is the whole cost.
    """
    n = batch.n
    names: list[str] = []
    columns: list[np.ndarray] = []
    reasons: list[str] = []
    # per payment, the index of the first factor that hard-blocks it (-1: none); made on the first hard block
    hard_factor: np.ndarray | None = None
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
            if np.count_nonzero(np.isfinite(scores)) != n:  # np.isfinite(scores).all(), in half the time
                errors.append(f"{plugin}: factor {factor} returned non-finite scores")
                continue
            index = len(names)
            names.append(factor)
            columns.append(scores)
            reasons.append(fs.reason_code)
            if fs.details is not None:
                details[factor] = list(fs.details)
            if fs.hard_block is not None:
                if hard_factor is None:
                    hard_factor = np.full(n, -1)
                blocked = np.asarray(fs.hard_block, dtype=bool) & (hard_factor < 0)
                hard_factor[blocked] = index
    if columns:  # one row per payment, scores clipped to [0, 1]
        scores = np.maximum(np.array(columns).T, 0.0, order="C")
        np.minimum(scores, 1.0, out=scores)
    else:
        scores = np.zeros((n, 0))
    weights = config.weight_row(tuple(names))
    contributions = scores * weights
    risk = np.minimum(contributions.sum(axis=1), 1.0)
    decision = (risk >= config.investigate_at).astype(np.int8)  # CLEAR or INVESTIGATE
    block = risk >= config.block_at
    if hard_factor is not None:
        block |= hard_factor >= 0
    decision[block] = BLOCK
    if errors:
        np.maximum(decision, INVESTIGATE, out=decision)
        error_mask = np.ones(n, dtype=bool)
    else:
        error_mask = np.zeros(n, dtype=bool)

    # the reason: the hard-blocking factor's, else the largest contribution's
    top = contributions.argmax(axis=1).tolist() if names else [0] * n
    hard = [-1] * n if hard_factor is None else hard_factor.tolist()
    reason_code = [
        RC_CLEAR if d == CLEAR
        else RC_SCREENING_ERROR if (errors and h < 0)
        else reasons[t if h < 0 else h] if names else RC_SCREENING_ERROR
        for d, t, h in zip(decision.tolist(), top, hard, strict=True)
    ]
    return Decisions(
        batch=batch, risk=risk, decision=decision, reason_code=reason_code, factor_names=names,
        scores=scores, contributions=contributions, details=details, error_mask=error_mask, errors=errors,
        versions=versions,
        thresholds={"investigate_at": config.investigate_at, "block_at": config.block_at},
        provenance={**(provenance or {}), "weights": dict(zip(names, weights.tolist(), strict=True))},
        timestamp=utc_timestamp(),
    )
