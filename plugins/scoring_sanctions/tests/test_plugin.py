"""The plugin through the kernel: factor scores, hard blocks, explanations, versions, decisions."""

from __future__ import annotations

import numpy as np
import pytest
from aegis_scoring_sanctions.config import SanctionsConfig
from pydantic import ValidationError

from aegis.decide import DecisionConfig, decide
from aegis.model import Decision


def test_listed_name_blocks_with_explanation_and_version(start_sanctions, payments, data):
    h = start_sanctions(lists=[{"format": "ofac-csv", "path": str(data.ofac)},
                               {"format": "un-xml", "path": str(data.un_xml)}])
    batch = h.batch(payments([("Anna Schmidt", "Usama bin Laden"), ("Jean Dupont", "Maria Rossi")]))
    result = h.score(batch)
    factor = result.factors["SANCTIONS"]
    assert factor.reason_code == "RC_SANCTIONS_MATCH"
    assert factor.scores.tolist() == [1.0, 0.0]
    assert factor.hard_block.tolist() == [True, False]
    detail = factor.details[0]
    assert "creditor 'Usama bin Laden' matches OFAC-SDN 6365" in detail and "score 1.000" in detail
    assert factor.details[1] is None
    version = result.versions["sanctions_list_version"]
    assert version.startswith("OFAC-SDN-") and version.endswith(";UN-SC-2026-02-27")
    decisions = decide(batch, [("sanctions", result)], DecisionConfig())
    record = decisions.record(0)
    assert record["decision"] == "BLOCK" and record["reason_code"] == "RC_SANCTIONS_MATCH"
    assert record["sanctions_list_version"] == version
    assert "OFAC-SDN 6365" in record["explanation"]["SANCTIONS"]
    assert decisions.record(1)["decision"] == "CLEAR"


def test_review_band_investigates(start_sanctions, payments):
    # a UN name with a patronymic left out and a typo: a possible match, not a certain one
    h = start_sanctions(review_at=0.8, block_at=0.93)
    batch = h.batch(payments([("TARIQ ANWAR EL SAYED AHMED", "Jean Dupont"), ("Tarik Anwar Ahmed", "Jean Dupont")]))
    result = h.score(batch)
    factor = result.factors["SANCTIONS"]
    decisions = decide(batch, [("sanctions", result)], DecisionConfig())
    assert decisions.decision[0] == Decision.BLOCK and factor.hard_block[0]
    assert decisions.decision[1] == Decision.INVESTIGATE and not factor.hard_block[1]
    assert 0.5 <= factor.scores[1] < 0.8
    assert "UN-SC QDi.014" in factor.details[1]


def test_person_with_date_of_birth_is_not_matched_to_a_vessel(start_sanctions, payments, data):
    h = start_sanctions(lists=[{"format": "ofac-csv", "path": str(data.ofac)}])
    vessel = h.score(h.batch(payments([("Jean Dupont", "SAND SWAN")])))
    person = h.score(h.batch(payments([("Jean Dupont", "SAND SWAN")], date_of_birth="1970-01-01")))
    assert vessel.factors["SANCTIONS"].hard_block[0]
    assert person.factors["SANCTIONS"].scores[0] == 0.0


def test_only_configured_parties_are_screened(start_sanctions, payments):
    h = start_sanctions(parties=["debtor"])
    result = h.score(h.batch(payments([("Jean Dupont", "TARIQ ANWAR EL SAYED AHMED")])))
    assert result.factors["SANCTIONS"].scores[0] == 0.0


def test_config_is_checked(data):
    lists = [{"format": "un-xml", "path": str(data.un_xml)}]
    with pytest.raises(ValidationError, match=r"review_at .* must be below block_at"):
        SanctionsConfig.model_validate({"lists": lists, "review_at": 0.95, "block_at": 0.9})
    with pytest.raises(ValidationError, match=r"no reader for list format 'eu-xml'"):
        SanctionsConfig.model_validate({"lists": [{"format": "eu-xml", "path": "x"}]})
    with pytest.raises(ValidationError, match=r"parties are debtor and/or creditor"):
        SanctionsConfig.model_validate({"lists": lists, "parties": ["agent"]})
    with pytest.raises(ValidationError):
        SanctionsConfig.model_validate({"lists": []})


def test_self_test_reports_each_list(start_sanctions, data):
    h = start_sanctions(lists=[{"format": "ofac-cons-csv", "path": str(data.ofac_cons)},
                               {"format": "un-xml", "path": str(data.un_xml)}])
    results = h.host.self_test()
    assert [r.check for r in results] == ["lists loaded", "OFAC-CONS: a listed name blocks",
                                          "UN-SC: a listed name blocks", "an unlisted name clears"]
    assert all(r.ok for r in results), results


def test_factor_scores_map_review_band_below_block(start_sanctions):
    h = start_sanctions(review_at=0.8, block_at=0.9)
    engine = h.plugin.engine
    scores = engine.factor_score(np.array([0.0, 0.79, 0.8, 0.85, 0.8999, 0.9, 1.0]))
    assert scores[0] == scores[1] == 0.0
    assert scores[2] == pytest.approx(0.5) and 0.5 < scores[3] < scores[4] < 0.79 + 1e-9
    assert scores[5] == scores[6] == 1.0
