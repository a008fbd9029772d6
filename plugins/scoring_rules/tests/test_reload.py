"""Hot reload of the FATF list: a good file is swapped in, a bad one refused, the old one kept."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


def _replace(path: Path, content: bytes) -> None:
    """Replace ``path`` the way operators are told to: write a new file, rename it over the old."""
    fresh = path.with_suffix(".new")
    fresh.write_bytes(content)
    os.replace(fresh, path)


@pytest.fixture
def lists(fatf_csv: Path, tmp_path: Path) -> dict[str, bytes]:
    """The real file, and the same without its newest list (2026-06-19)."""
    full = fatf_csv.read_bytes()
    older = b"".join(line for line in full.splitlines(keepends=True) if not line.startswith(b"2026-06-19"))
    return {"full": full, "older": older}


@pytest.fixture
def watched(start_rules, payments, lists, tmp_path):
    """A started plugin reading a private copy of the list (without 2026-06-19), and a scorer."""
    path = tmp_path / "fatf.csv"
    path.write_bytes(lists["older"])
    h = start_rules(geo={"fatf_list": str(path)})

    def geo(*countries: str):
        txs = [tx for k, c in enumerate(countries) for tx in payments(k, [k], creditor_country=c)]
        return h.score(h.batch(txs))

    return h, path, geo


def test_unchanged_file_reports_nothing(watched, lists):
    h, path, _ = watched
    assert h.call("aegis_reload") is None
    _replace(path, lists["older"])  # new inode and mtime, same bytes
    assert h.call("aegis_reload") is None


def test_good_file_is_swapped_in(watched, lists):
    h, path, geo = watched
    before = geo("DZ", "BA")
    assert before.versions["fatf_list_version"] == "FATF-2026-02-13"
    np.testing.assert_array_equal(before.factors["GEO"].scores, [0.5, 0.0])
    _replace(path, lists["full"])
    report = h.call("aegis_reload")
    assert report.ok and report.error is None
    assert report.artefact == str(path)
    assert report.old_version == before.versions["rules_version"]
    assert report.new_version != report.old_version and report.new_version.startswith("sha256:")
    assert report.summary.startswith("FATF-2026-02-13 -> FATF-2026-06-19: 25 jurisdictions")
    after = geo("DZ", "BA")
    assert after.versions == {"rules_version": report.new_version, "fatf_list_version": "FATF-2026-06-19"}
    np.testing.assert_array_equal(after.factors["GEO"].scores, [0.0, 0.5])
    assert h.call("aegis_reload") is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda b: b.replace(b",confidence,", b",certainty,"), "missing column(s) confidence"),
    (lambda b: b.replace(b",KE,Kenya,", b",K3,Kenya,"), "iso2 'K3' is not an ISO 3166-1 alpha-2 country code"),
    (lambda b: b.replace(b"increased_monitoring", b"grey_list"), "unknown fatf_status 'grey_list'"),
])
def test_bad_file_is_refused_and_the_old_stays(watched, lists, edit, message):
    h, path, geo = watched
    before = geo("DZ", "IR")
    _replace(path, edit(lists["full"]))
    report = h.call("aegis_reload")
    assert not report.ok
    assert message in report.error and str(path) in report.error
    assert report.old_version == before.versions["rules_version"] and report.new_version is None
    after = geo("DZ", "IR")
    assert after.versions == before.versions
    np.testing.assert_array_equal(after.factors["GEO"].scores, before.factors["GEO"].scores)
    assert h.call("aegis_reload") is None  # refused once, not at every check
    _replace(path, lists["full"])  # the operator fixes the file
    fixed = h.call("aegis_reload")
    assert fixed.ok and geo("DZ").versions["fatf_list_version"] == "FATF-2026-06-19"


def test_missing_file_is_refused(watched):
    h, path, geo = watched
    version = geo("DE").versions["rules_version"]
    path.unlink()
    report = h.call("aegis_reload")
    assert not report.ok and "cannot read FATF list" in report.error
    assert geo("IR").versions["rules_version"] == version
    assert geo("IR").factors["GEO"].scores[0] == 1.0
