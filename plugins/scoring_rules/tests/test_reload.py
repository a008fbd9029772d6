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


# -- the thresholds file ----------------------------------------------------------

THRESHOLDS = b"""velocity:
  windows:
    - {window: 1h, max_count: 10}
amount:
  min_history: 5
"""


@pytest.fixture
def tuned(start_rules, payments, tmp_path):
    """A started plugin whose velocity limits come from a thresholds file, and a burst scorer."""
    path = tmp_path / "thresholds.yaml"
    path.write_bytes(THRESHOLDS)
    h = start_rules(thresholds=str(path))
    debtor = iter(range(100, 10_000))

    def burst(n: int):
        """The VELOCITY score of the n-th of n payments a fresh account makes within a minute."""
        result = h.score(h.batch(payments(next(debtor), [5.0 * k for k in range(n)])))
        return result.factors["VELOCITY"].scores[-1], result

    return h, path, burst


def test_thresholds_file_is_swapped_in_at_a_batch_boundary(tuned):
    h, path, burst = tuned
    before, result = burst(4)
    assert before == 0.0
    old_version = result.versions["rules_version"]
    _replace(path, THRESHOLDS.replace(b"max_count: 10", b"max_count: 4"))
    report = h.call("aegis_reload")
    assert report.ok and report.artefact == str(path)
    assert report.summary == "velocity.windows[0].max_count 10 -> 4"
    assert report.old_version == old_version and report.new_version != old_version
    after, result = burst(4)
    assert after == 1.0 and result.versions["rules_version"] == report.new_version
    assert "in 1h (limit 4 / none)" in result.factors["VELOCITY"].details[-1]
    assert h.call("aegis_reload") is None


@pytest.mark.parametrize(("content", "message"), [
    (THRESHOLDS.replace(b"max_count: 10", b"max_count: .nan"), "velocity.windows.0.max_count"),
    (THRESHOLDS.replace(b"min_history: 5", b"min_history: 5\n  z_full: .inf"), "amount.z_full"),
    (THRESHOLDS.replace(b"min_history: 5", b"min_history: 5\n  z_start: 5.0\n  z_full: 4.0"),
     "z_full (4.0) must be greater than z_start (5.0)"),
    (THRESHOLDS + b"geo: {as_of: 2020-01-01}\n", "geo: Extra inputs are not permitted"),
    (THRESHOLDS.replace(b"- {window", b"- {windw"), "velocity.windows.0.windw"),
    (THRESHOLDS.replace(b"  windows:", b"  ring_size: 128\n  windows:"), "needs a restart"),
    (b"velocity: [unclosed", "not a YAML/JSON document"),
    (b"- just a list\n", "expected a mapping"),
])
def test_bad_thresholds_file_is_refused_and_the_old_stays(tuned, content, message):
    h, path, burst = tuned
    _replace(path, THRESHOLDS.replace(b"max_count: 10", b"max_count: 3"))
    assert h.call("aegis_reload").ok
    active, result = burst(3)
    version = result.versions["rules_version"]
    _replace(path, content)
    report = h.call("aegis_reload")
    assert not report.ok and report.new_version is None
    assert message in report.error and str(path) in report.error, report.error
    again, result = burst(3)
    assert (again, result.versions["rules_version"]) == (active, version) == (1.0, version)
    assert h.call("aegis_reload") is None


def test_list_and_thresholds_changing_together_swap_as_one(start_rules, payments, lists, tmp_path):
    fatf = tmp_path / "fatf.csv"
    fatf.write_bytes(lists["older"])
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_bytes(THRESHOLDS)
    h = start_rules(geo={"fatf_list": str(fatf)}, thresholds=str(thresholds))
    _replace(fatf, lists["full"])
    _replace(thresholds, THRESHOLDS.replace(b"max_count: 10", b"max_count: 2"))
    report = h.call("aegis_reload")
    assert report.ok and report.artefact == f"{fatf}, {thresholds}"
    assert "FATF-2026-06-19" in report.summary and "max_count 10 -> 2" in report.summary
    result = h.score(h.batch(payments(1, [0.0, 1.0], creditor_country="BA")))
    assert result.versions["fatf_list_version"] == "FATF-2026-06-19"
    assert result.factors["VELOCITY"].scores[-1] == 1.0 and result.factors["GEO"].scores[-1] == 0.5


def test_thresholds_from_the_file_win_at_startup(start_rules, payments, tmp_path):
    path = tmp_path / "thresholds.yaml"
    path.write_bytes(THRESHOLDS.replace(b"max_count: 10", b"max_count: 2"))
    h = start_rules(velocity={"windows": [{"window": "1h", "max_count": 50}]}, thresholds=str(path))
    assert h.score(h.batch(payments(1, [0.0, 1.0]))).factors["VELOCITY"].scores[-1] == 1.0
