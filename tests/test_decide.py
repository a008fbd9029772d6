"""The decision rule of DESIGN section 4."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from aegis.decide import DecisionConfig, decide
from aegis.decode import decode
from aegis.model import AccountIndex, Decision, DecisionRecord, FactorScores, RawBatch, ScoreResult
from aegis.testing.samples import transactions


@pytest.fixture
def batch():
    b, rejects = decode(RawBatch("t", transactions(5), [f"t:{i}" for i in range(5)]), AccountIndex())
    assert not rejects
    return b


def result(**factors) -> ScoreResult:
    return ScoreResult({name: FactorScores(np.array(scores, dtype=float), f"RC_{name}") for name, scores in
                        factors.items()}, versions={"rules_version": "sha256:abc", "model_version_hash": "sha256:m"})


CONFIG = DecisionConfig(investigate_at=0.5, block_at=0.8, weights={"VELOCITY": 0.5, "AMOUNT": 0.5, "GEO": 1.0})


def test_weighted_risk_thresholds_and_reason(batch):
    r = result(VELOCITY=[0, 1, 1, 0.2, 1], AMOUNT=[0, 0, 1, 0.9, 0.7], GEO=[0, 0, 0, 0, 0])
    d = decide(batch, [("rules", r)], CONFIG)
    assert np.allclose(d.risk, [0, 0.5, 1.0, 0.55, 0.85])
    assert d.decision.tolist() == [Decision.CLEAR, Decision.INVESTIGATE, Decision.BLOCK, Decision.INVESTIGATE,
                                   Decision.BLOCK]
    assert d.reason_code == ["RC_CLEAR", "RC_VELOCITY", "RC_VELOCITY", "RC_AMOUNT", "RC_VELOCITY"]
    record = d.record(3)
    assert record["risk_factors"] == {"VELOCITY": 0.1, "AMOUNT": 0.45, "GEO": 0.0}
    assert record["factor_scores"]["AMOUNT"] == 0.9


def test_contributions_sum_to_risk_below_cap(batch):
    r = result(VELOCITY=[0.1, 0.2, 0.3, 0.4, 0.5], GEO=[0.1, 0.1, 0.1, 0.1, 0.1])
    d = decide(batch, [("rules", r)], CONFIG)
    assert np.allclose(d.contributions.sum(axis=1), d.risk)


def test_hard_block_wins_and_names_its_factor(batch):
    hard = np.array([False, False, True, False, False])
    r = ScoreResult({"AMOUNT": FactorScores(np.full(5, 0.9), "RC_AMOUNT_ANOMALY"),
                     "SANCTIONS": FactorScores(np.array([0, 0, 0.2, 0, 0.]), "RC_SANCTIONS_MATCH", hard_block=hard)})
    d = decide(batch, [("s", r)], DecisionConfig(weights={"AMOUNT": 0.1, "SANCTIONS": 0.1}))
    assert d.decision[2] == Decision.BLOCK and d.reason_code[2] == "RC_SANCTIONS_MATCH"
    assert d.decision[0] == Decision.CLEAR


def test_failed_plugin_is_never_clear(batch):
    ok = result(VELOCITY=[0, 0, 0, 0, 1], GEO=[0, 0, 0, 0, 0])
    d = decide(batch, [("rules", ok), ("model", RuntimeError("weights unreadable"))], CONFIG)
    assert Decision.CLEAR not in d.decision.tolist()
    assert d.reason_code[:4] == ["RC_SCREENING_ERROR"] * 4
    record = d.record(0)
    assert record["decision"] == "INVESTIGATE" and record["errors"] == ["model: RuntimeError: weights unreadable"]


def test_all_plugins_failed_is_investigate(batch):
    d = decide(batch, [("rules", ValueError("boom"))], CONFIG)
    assert d.decision.tolist() == [Decision.INVESTIGATE] * 5
    assert set(d.reason_code) == {"RC_SCREENING_ERROR"}


def test_malformed_scores_fail_closed(batch):
    bad = ScoreResult({"VELOCITY": FactorScores(np.array([0.0, np.nan, 0, 0, 0]), "RC_VELOCITY_EXCEEDED"),
                       "GEO": FactorScores(np.zeros(3), "RC_HIGH_RISK_GEO")})
    d = decide(batch, [("rules", bad)], CONFIG)
    assert d.decision.tolist() == [Decision.INVESTIGATE] * 5
    assert any("non-finite" in e for e in d.errors) and any("(3,)" in e for e in d.errors)


def test_record_carries_versions_thresholds_and_canonical_transaction(batch):
    d = decide(batch, [("rules", result(GEO=[0.2] * 5))], CONFIG)
    record = DecisionRecord.model_validate(orjson.loads(d.lines()[1]))
    assert record.uetr == batch.uetr[1]
    assert record.rules_version == "sha256:abc" and record.model_version_hash == "sha256:m"
    assert record.thresholds == {"investigate_at": 0.5, "block_at": 0.8}
    assert record.transaction["uetr"] == batch.uetr[1]
    assert record.transaction["debtor"]["account"] == batch.transactions[1].debtor.account
    assert record.origin == "t:1"


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="investigate_at"):
        DecisionConfig(investigate_at=0.9, block_at=0.5)


def test_same_factor_from_two_plugins_fails_closed(batch):
    first = result(GEO=[0, 0, 0, 0, 0])
    second = result(GEO=[1, 1, 1, 1, 1])
    d = decide(batch, [("rules", first), ("vendor", second)], CONFIG)
    assert d.decision.tolist() == [Decision.INVESTIGATE] * 5
    assert d.factor_names == ["GEO"]
    assert "factor GEO is also returned by an earlier plugin" in d.errors[0]


def _reference_line(d, i: int) -> bytes:
    """The record layout spelled out as one mapping: what the batch renderer must produce byte for byte."""
    names = d.factor_names
    record = {"uetr": d.uetr[i], "decision": ("CLEAR", "INVESTIGATE", "BLOCK")[d.decision[i]],
              "reason_code": d.reason_code[i], "risk_score": abs(round(float(d.risk[i]), 6)),
              "risk_factors": {n: abs(round(float(d.contributions[i, j]), 6)) for j, n in enumerate(names)},
              "factor_scores": {n: abs(round(float(d.scores[i, j]), 6)) for j, n in enumerate(names)},
              "explanation": {f: v[i] for f, v in d.details.items() if v[i]}, "origin": d.batch.origins[i]}
    if d.proof_refs is not None and d.proof_refs[i] is not None:
        record["proof_ref"] = d.proof_refs[i]
    record["errors"] = d.errors if d.error_mask[i] else []
    record["timestamp"] = d.timestamp
    record.update({k: v for k, v in d.versions.items() if k in ("model_version_hash", "rules_version",
                                                                 "sanctions_list_version")})
    record["versions"] = {k: v for k, v in d.versions.items()
                          if k not in ("model_version_hash", "rules_version", "sanctions_list_version")}
    record.update({"thresholds": d.thresholds, **d.provenance,
                   "transaction": orjson.Fragment(d.batch.canonical_json()[i])})
    return orjson.dumps(record)


def test_rendered_records_match_the_layout_byte_for_byte():
    txs = transactions(8)
    origins = [f"feed \"{i}\".jsonl:{i}" if i % 3 else f"fïle:{i}" for i in range(8)]
    b, _ = decode(RawBatch("t", txs, origins), AccountIndex())
    scores = ScoreResult({
        "VELOCITY": FactorScores(np.array([0, 0.123456789, 0, 1, -0.0, 0.5, 1, 1e-9]), "RC_VELOCITY",
                                 details=[None, "3 payments in 1 h", None, "ünïcode \"quoted\"", *[None] * 4]),
        "SANCTIONS": FactorScores(np.array([-0.0, 0, 0.97, 0, 0, 0, 0, 0]), "RC_SANCTIONS_MATCH",
                                  hard_block=np.array([False, False, True] + [False] * 5))},
        versions={"rules_version": "sha256:abc", "sanctions_list_version": "OFAC-SDN", "other": "1"})
    for results in ([("rules", scores)], [("rules", scores), ("model", ValueError("bad weights"))]):
        d = decide(b, results, CONFIG, {"run": "r-1", "snapshots": {"scoring[0]": "abc"}})
        d.proof_refs = [None, "groth16:zkp.db:x", None, None, None, None, None, None]
        lines = d.lines()
        assert [orjson.loads(line) for line in lines]  # every line is JSON
        assert lines == [_reference_line(d, i) for i in range(8)]
