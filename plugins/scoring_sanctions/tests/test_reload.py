"""Hot reload: a new list version is swapped in with a summary of what changed; a bad one is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aegis_scoring_sanctions.readers.ofac_csv import OfacSdnReader
from aegis_scoring_sanctions.reload import list_diff

from aegis.decide import DecisionConfig, decide


def _publish(target: Path, source: Path, link: Path) -> None:
    """Copy ``source`` to ``target`` and point ``link`` at it atomically (how a folder list is replaced)."""
    shutil.copytree(source, target)
    for f in target.iterdir():
        f.chmod(0o644)
    tmp = link.with_name(link.name + ".new")
    tmp.symlink_to(target)
    os.replace(tmp, link)


def test_list_diff_between_the_2019_and_2021_snapshots(data):
    old = OfacSdnReader().read(data.ofac_2019, "old", version="OFAC-SDN-2019")
    new = OfacSdnReader().read(data.ofac, "new", version="OFAC-SDN-2021")
    summary = list_diff(old, new)
    added = len(new.by_key().keys() - old.by_key().keys())
    removed = len(old.by_key().keys() - new.by_key().keys())
    assert added > 1000 and removed > 10
    assert summary.startswith(f"OFAC-SDN-2019 -> OFAC-SDN-2021: +{added:,} added, -{removed:,} removed, ")
    assert "(added e.g. " in summary and "(removed e.g. " in summary


def test_reload_swaps_version_and_reports_added_and_removed(start_sanctions, payments, data, tmp_path: Path, caplog):
    link = tmp_path / "ofac-current"
    _publish(tmp_path / "v2019", data.ofac_2019, link)
    h = start_sanctions(lists=[{"format": "ofac-csv", "path": str(link)}])
    # FAKHRZADEH, Mohammad (27032) was listed after January 2019
    txs = payments([("Jean Dupont", "Mohammad Fakhrzadeh")])
    before = h.score(h.batch(txs))
    assert before.factors["SANCTIONS"].scores[0] == 0.0
    assert h.host.reload() == []  # nothing changed yet

    _publish(tmp_path / "v2021", data.ofac, link)
    caplog.set_level("WARNING")
    reports = h.host.reload()
    assert len(reports) == 1 and reports[0].ok, reports
    report = reports[0]
    assert report.old_version != report.new_version
    assert report.old_version == before.versions["sanctions_list_version"]
    assert "added" in report.summary and "removed" in report.summary and "+1," in report.summary
    assert any("sanctions lists reloaded" in r.getMessage() for r in caplog.records)

    batch = h.batch(txs)
    after = h.score(batch)
    assert after.versions["sanctions_list_version"] == report.new_version
    assert after.factors["SANCTIONS"].hard_block[0]
    record = decide(batch, [("sanctions", after)], DecisionConfig()).record(0)
    assert record["sanctions_list_version"] == report.new_version and "OFAC-SDN 27032" in str(record["explanation"])
    assert h.host.reload() == []  # reported once


def test_invalid_new_version_is_refused_and_old_stays(start_sanctions, payments, data, tmp_path: Path):
    link = tmp_path / "ofac-current"
    _publish(tmp_path / "good", data.ofac_2019, link)
    h = start_sanctions(lists=[{"format": "ofac-csv", "path": str(link)}])
    version = h.score(h.batch(payments([("Jean Dupont", "Maria Rossi")]))).versions
    broken = tmp_path / "broken"
    _publish(broken, data.ofac_2019, link)
    (broken / "alt.csv").unlink()
    reports = h.host.reload()
    assert len(reports) == 1 and not reports[0].ok
    assert "missing alt.csv" in reports[0].error and reports[0].old_version == version["sanctions_list_version"]
    assert h.score(h.batch(payments([("Jean Dupont", "Maria Rossi")]))).versions == version
    assert h.host.reload() == []  # refused once, not at every check


def test_dispositions_file_reloads_without_rebuilding_the_index(start_sanctions, payments, tmp_path: Path):
    path = tmp_path / "dispositions.yaml"
    path.write_text("[]\n")
    h = start_sanctions(dispositions=str(path))
    txs = payments([("Jean Dupont", "TARIQ ANWAR EL SAYED AHMED")])
    assert h.score(h.batch(txs)).factors["SANCTIONS"].hard_block[0]
    index = h.plugin.engine.active.index
    fresh = tmp_path / "new.yaml"
    fresh.write_text("- {name: Tariq Anwar el Sayed Ahmed, list: UN-SC, entry_id: QDi.014, decided_by: x,\n"
                     "   decided_at: '2026-01-01T00:00:00Z', reason: not him}\n")
    os.replace(fresh, path)
    reports = h.host.reload()
    assert reports and reports[0].ok and "dispositions" in reports[0].summary
    assert h.plugin.engine.active.index is index
    factor = h.score(h.batch(txs)).factors["SANCTIONS"]
    assert not factor.hard_block[0] and "cleared by disposition by x" in factor.details[0]
