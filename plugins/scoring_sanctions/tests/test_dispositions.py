"""Analysts' dispositions: a confirmed false positive does not alert again, and records say so."""

from __future__ import annotations

from pathlib import Path

import pytest
from aegis_scoring_sanctions.dispositions import DispositionError, Dispositions
from aegis_scoring_sanctions.matcher import Query

YAML = """
- name: "usama BIN laden"
  list: OFAC-SDN
  entry_id: "6365"
  decided_by: j.doe
  decided_at: 2026-03-01T10:00:00Z
  reason: "test party, known not to be the listed person"
"""


def test_yaml_and_csv_files_load(tmp_path: Path):
    yml = tmp_path / "d.yaml"
    yml.write_text(YAML)
    loaded = Dispositions.load(yml)
    assert len(loaded) == 1 and loaded.version.startswith("sha256:")
    csv = tmp_path / "d.csv"
    csv.write_text("account,list,entry_id,decided_by,decided_at,reason\n"
                   "ACC-000777,UN-SC,QDi.014,a.analyst,2026-02-01T09:00:00Z,same name different person\n")
    assert Dispositions.load(csv).records[0].account == "ACC-000777"


def test_invalid_records_are_all_reported(tmp_path: Path):
    bad = tmp_path / "d.yaml"
    bad.write_text("- {list: OFAC-SDN, entry_id: '1', decided_by: x, decided_at: 2026-01-01, reason: r}\n"
                   "- {name: a, list: OFAC-SDN, entry_id: '1', decided_at: yesterday, reason: r}\n")
    with pytest.raises(DispositionError) as excinfo:
        Dispositions.load(bad)
    message = str(excinfo.value)
    assert "2 invalid disposition(s)" in message
    assert "record 1: record: Value error, a disposition needs a name, an account or both" in message
    assert "record 2: decided_by: Field required" in message and "decided_at" in message


def test_disposition_removes_only_that_entry_for_that_name(screener, tmp_path: Path):
    path = tmp_path / "d.yaml"
    path.write_text(YAML)
    cleared = screener.with_dispositions(Dispositions.load(path))
    before = screener.screen([Query("Usama bin Laden")])[0]
    after, other = cleared.screen([Query("Laden Usama Bin"), Query("Osama bin Laden")])
    assert before.best.entry.entry_id == "6365"
    assert all(m.entry.entry_id != "6365" for m in after.matches)
    assert after.suppressed and "by j.doe" in after.suppressed[0] and "known not to be" in after.suppressed[0]
    assert other.best.entry.entry_id == "6365"  # another name still matches the entry


def test_plugin_records_the_applied_disposition(start_sanctions, payments, data, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("account,list,entry_id,decided_by,decided_at,reason\n"
                    "ACC-000500,UN-SC,QDi.014,a.analyst,2026-02-01T09:00:00Z,same name different person\n")
    h = start_sanctions(dispositions=str(path))
    batch = h.batch(payments([("Jean Dupont", "TARIQ ANWAR EL SAYED AHMED"),
                              ("Jean Dupont", "TARIQ ANWAR EL SAYED AHMED")]))
    result = h.score(batch)
    factor = result.factors["SANCTIONS"]
    # payment 0's creditor is account ACC-000500: cleared; payment 1's creditor (ACC-000501) still blocks
    assert factor.scores[0] == 0.0 and not factor.hard_block[0]
    assert "cleared by disposition by a.analyst" in factor.details[0] and "QDi.014" in factor.details[0]
    assert factor.hard_block[1]
    assert result.versions["sanctions_dispositions_version"].startswith("sha256:")
