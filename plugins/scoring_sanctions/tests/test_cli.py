"""``aegis sanctions screen``: a CSV of names in, one row per name out."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from aegis.cli import main


def test_screen_writes_one_row_per_name(data, tmp_path: Path):
    names = tmp_path / "names.csv"
    names.write_text("full_name,date_of_birth,nationality\n"
                     "Usama bin Laden,,\n"
                     "Jean Dupont,1980-01-01,France\n"
                     "GERMAIN KATANGA,1978-04-28,cd\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["sanctions", "screen", "--list", f"ofac-csv:{data.ofac}",
                                       "--list", f"un-xml:{data.un_xml}", "--names", str(names), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "screened 3 names" in result.output and "2 matched" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["matched"] for r in rows] == ["true", "false", "true"]
    assert rows[0]["list"] == "OFAC-SDN" and rows[0]["entry_id"] == "6365"
    assert "KATANGA" in rows[2]["matched_name"]  # on both lists
    assert float(rows[2]["score"]) >= 0.99 and "date of birth matches" in rows[2]["evidence"]


def test_screen_refuses_a_csv_without_full_name(data, tmp_path: Path):
    names = tmp_path / "names.csv"
    names.write_text("name\nX\n")
    result = CliRunner().invoke(main, ["sanctions", "screen", "--list", f"un-xml:{data.un_xml}",
                                       "--names", str(names), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code != 0 and "needs a header with a full_name column" in result.output
