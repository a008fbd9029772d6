"""GEO: debtor or creditor country on the FATF list selected by as_of, and the versions it reports."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from aegis.errors import PluginLoadError


def _geo(h, payments, pairs: list[tuple[str, str]]):
    txs = [tx for k, (debtor, creditor) in enumerate(pairs)
           for tx in payments(k, [k], debtor_country=debtor, creditor_country=creditor)]
    return h.score(h.batch(txs))


def test_black_and_grey_countries_score(start_rules, payments):
    h = start_rules()
    result = _geo(h, payments, [("DE", "IR"), ("KP", "DE"), ("DE", "MM"), ("FR", "KE"), ("DE", "FR"),
                                ("IR", "KE")])
    geo = result.factors["GEO"]
    assert geo.reason_code == "RC_HIGH_RISK_GEO"
    np.testing.assert_array_equal(geo.scores, [1.0, 1.0, 1.0, 0.5, 0.0, 1.0])
    assert geo.details[0] == "creditor country IR: FATF call_for_action_countermeasures (2026-06-19)"
    assert geo.details[1] == "debtor country KP: FATF call_for_action_countermeasures (2026-06-19)"
    assert geo.details[3] == "creditor country KE: FATF increased_monitoring (2026-06-19)"
    assert geo.details[4] is None
    assert geo.details[5] == ("debtor country IR: FATF call_for_action_countermeasures (2026-06-19); "
                              "creditor country KE: FATF increased_monitoring (2026-06-19)")


def test_status_scores_are_configurable(start_rules, payments):
    h = start_rules(geo={"status_scores": {"call_for_action_countermeasures": 0.9,
                                           "call_for_action_enhanced_due_diligence": 0.8,
                                           "increased_monitoring": 0.2}})
    result = _geo(h, payments, [("DE", "IR"), ("DE", "MM"), ("DE", "KE")])
    np.testing.assert_allclose(result.factors["GEO"].scores, [0.9, 0.8, 0.2])


@pytest.mark.parametrize(("as_of", "version", "listed", "not_listed"), [
    (None, "FATF-2026-06-19", ["BA", "IQ", "KW"], ["DZ", "NA"]),
    ("2026-06-18", "FATF-2026-02-13", ["DZ", "NA", "KW"], ["BA", "IQ"]),
    ("2026-02-13", "FATF-2026-02-13", ["DZ", "KW", "PG"], ["BA"]),
    ("2025-12-31", "FATF-2025-10-24", ["DZ", "NA"], ["KW", "PG"]),
])
def test_as_of_selects_the_list(start_rules, payments, as_of, version, listed, not_listed):
    h = start_rules(geo={"as_of": as_of})
    result = _geo(h, payments, [("DE", c) for c in listed + not_listed])
    assert result.versions["fatf_list_version"] == version
    np.testing.assert_array_equal(result.factors["GEO"].scores, [0.5] * len(listed) + [0.0] * len(not_listed))


def test_as_of_before_every_list_fails_startup(start_rules):
    with pytest.raises(PluginLoadError, match=r"no list dated on or before as_of 2025-01-01 \(lists: 2025-10-24, "):
        start_rules(geo={"as_of": "2025-01-01"})


def test_rules_version_names_config_and_file(start_rules, payments, fatf_csv, tmp_path):
    def version(**sections) -> str:
        h = start_rules(**sections)
        return _geo(h, payments, [("DE", "FR")]).versions["rules_version"]

    default = version()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", default)
    copy = shutil.copy(fatf_csv, tmp_path / "elsewhere.csv")
    assert version(geo={"fatf_list": str(copy)}) == default  # same bytes, other place
    assert version(details=False) == default  # explanations change no score
    assert version(amount={"min_history": 6}) != default
    assert version(geo={"as_of": "2026-03-01"}) != default
    changed = tmp_path / "changed.csv"
    changed.write_bytes(fatf_csv.read_bytes().replace(b"Kenya", b"Republic of Kenya"))
    assert version(geo={"fatf_list": str(changed)}) != default
