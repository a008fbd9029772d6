"""Matching quality on real list entries: variants that must match, and parties that must not."""

from __future__ import annotations

import pytest
from aegis_scoring_sanctions.config import DEFAULT_BLOCK_AT, DEFAULT_REVIEW_AT
from aegis_scoring_sanctions.matcher import Query


def best(screener, query: Query):
    result = screener.screen([query])[0]
    return result.best


@pytest.mark.parametrize(("name", "entry"), [
    ("Usama bin Laden", ("OFAC-SDN", "6365")),
    ("Bin-Laden Usama", ("OFAC-SDN", "6365")),  # token order, hyphen
    ("Usama bin Ladn", ("OFAC-SDN", "6365")),  # typo
    ("Usama bin La den", ("OFAC-SDN", "6365")),  # split token
    ("Oleg Vladmirovich Deripaska", ("OFAC-SDN", "24283")),  # dropped letter
    ("DERIPASKA Oleg Vladimirovitch", ("OFAC-SDN", "24283")),  # transliteration variant
    ("ABDULMAJID AZIZ AL-ZINDANI", ("UN-SC", "QDi.156")),  # joined tokens
    ("Abd-al-Majid Aziz al Zindani", ("UN-SC", "QDi.156")),
    ("Banco Nacional de Cuba S.A.", ("OFAC-SDN", "306")),  # legal form
])
def test_variants_of_listed_names_match(screener, name, entry):
    found = best(screener, Query(name))
    assert found is not None and found.entry.key == entry, found
    assert found.score >= DEFAULT_REVIEW_AT


@pytest.mark.parametrize(("name", "entry"), [
    ("Олег Владимирович Дерипаска", ("OFAC-SDN", "24283")),  # Cyrillic
    ("Олег Дерипаска", ("OFAC-SDN", "24283")),
    ("عبد المجيد عزيز الزنداني", ("UN-SC", "QDi.156")),  # Arabic, listed in original script too
    ("أسامة بن لادن", ("OFAC-SDN", "6365")),  # Arabic, OFAC has only Latin spellings
    ("حمزة بن لادن", ("OFAC-SDN", "21286")),
    ("李方伟", ("OFAC-SDN", "11447")),  # Chinese: LI, Fangwei
    ("张继成", ("OFAC-SDN", "16818")),  # ZHANG, Jicheng
    ("陈明富", ("OFAC-SDN", "19250")),  # CHEN, Mingfu
])
def test_non_latin_scripts_match_their_latin_entries(screener, name, entry):
    found = best(screener, Query(name))
    assert found is not None and found.entry.key == entry, found
    assert found.score >= DEFAULT_REVIEW_AT


@pytest.mark.parametrize("name", ["Patricia Lucas Wheeler", "Jean Dupont", "Anna Schmidt", "Kenji Tanaka",
                                  "Olena Kovalenko", "Quillon Vextrabury Zandorff"])
def test_unlisted_people_do_not_match(screener, name):
    result = screener.screen([Query(name, person=True)])[0]
    assert result.score < DEFAULT_REVIEW_AT, result.best


def test_individuals_are_not_matched_to_vessels_by_name(screener):
    vessel = best(screener, Query("SAND SWAN"))
    assert vessel is not None and vessel.entry.kind == "vessel" and vessel.score >= DEFAULT_BLOCK_AT
    person = screener.screen([Query("SAND SWAN", date_of_birth="1970-01-01", person=True)])[0]
    assert all(m.entry.kind not in ("vessel", "aircraft") for m in person.matches)


def test_date_of_birth_supports_and_contradicts(screener):
    plain = best(screener, Query("Oleg Deripaska"))
    same = best(screener, Query("Oleg Deripaska", date_of_birth="1968-01-02", person=True))
    other = best(screener, Query("Oleg Deripaska", date_of_birth="1990-05-05", person=True))
    assert same.score > plain.score > other.score
    assert any("date of birth matches" in e for e in same.evidence)
    assert any("date of birth differs" in e for e in other.evidence)
    assert other.score < DEFAULT_REVIEW_AT  # a name match 22 years off is not an alert


def test_country_is_weak_evidence(screener):
    home = best(screener, Query("Oleg Deripaska", country="RU"))
    away = best(screener, Query("Oleg Deripaska", country="BR"))
    assert home.score > away.score and home.score - away.score < 0.1


def test_identical_queries_are_screened_once_and_results_cached(screener):
    queries = [Query("Usama bin Laden")] * 50 + [Query("Jean Dupont")] * 50
    results = screener.screen(queries)
    assert len(results) == 100 and results[0] is not results[1]
    assert results[0].matches == results[49].matches
    assert len(screener._cache) == 2


def test_empty_and_punctuation_only_names_do_not_match(screener):
    results = screener.screen([Query(""), Query("  "), Query("---")])
    assert all(r.best is None for r in results)
