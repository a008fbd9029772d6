"""Reading the FATF list file: selection by date, and refusal of bad files with file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from aegis_scoring_rules.config import DEFAULT_STATUS_SCORES
from aegis_scoring_rules.fatf import FatfListError, parse_fatf_list, read_fatf_list

from aegis.model import country_code

HEADER = "as_of,iso2,jurisdiction,fatf_status,confidence,sources\n"
ROW = "2026-02-13,KE,Kenya,increased_monitoring,corroborated,somewhere\n"


def _parse(text: str, as_of: date | None = None):
    return parse_fatf_list(text.encode(), Path("lists.csv"), DEFAULT_STATUS_SCORES, as_of)


def test_real_file(fatf_csv):
    fatf = read_fatf_list(fatf_csv, DEFAULT_STATUS_SCORES)
    assert fatf.version == "FATF-2026-06-19"
    assert fatf.list_dates == (date(2025, 10, 24), date(2026, 2, 13), date(2026, 6, 19))
    assert len(fatf.entries) == 25
    older = read_fatf_list(fatf_csv, DEFAULT_STATUS_SCORES, date(2026, 3, 1))
    assert older.entries["NA"].jurisdiction == "Namibia"  # "NA" is a country, not a missing value
    table = older.table(DEFAULT_STATUS_SCORES)
    assert table.shape == (676,)
    assert table[country_code("KP")] == 1.0 and table[country_code("NA")] == 0.5
    assert table[country_code("DE")] == 0.0
    assert (table > 0).sum() == len(older.entries)


@pytest.mark.parametrize(("text", "message"), [
    ("as_of,iso2,jurisdiction,fatf_status,sources\n" + ROW,
     "lists.csv: missing column(s) confidence; the header must hold as_of,iso2,jurisdiction,"),
    (HEADER + ROW + "2026-02-13,ZZ,Nowhere,increased_monitoring,corroborated,x\n",
     "lists.csv line 3: iso2 'ZZ' is not an ISO 3166-1 alpha-2 country code"),
    (HEADER + "2026-02-13,ke,Kenya,increased_monitoring,corroborated,x\n", "line 2: iso2 'ke' is not"),
    (HEADER + "2026-02-13,KE,Kenya,blacklist,corroborated,x\n",
     "lists.csv line 2: unknown fatf_status 'blacklist' (known: call_for_action_countermeasures,"),
    (HEADER + "13/02/2026,KE,Kenya,increased_monitoring,corroborated,x\n",
     "line 2: as_of '13/02/2026' is not a date (YYYY-MM-DD)"),
    (HEADER + "2026-02-13,KE,Kenya,increased_monitoring\n", "line 2: expected 6 fields"),
    (HEADER + ROW + "2026-02-13,KE,Kenya,call_for_action_countermeasures,corroborated,x\n",
     "line 3: KE is listed twice on 2026-02-13 with different statuses"),
    (HEADER, "lists.csv: no rows"),
])
def test_bad_file_is_refused(text, message):
    with pytest.raises(FatfListError) as info:
        _parse(text)
    assert message in str(info.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(FatfListError, match="cannot read FATF list"):
        read_fatf_list(tmp_path / "missing.csv", DEFAULT_STATUS_SCORES)


def test_status_known_only_when_configured():
    text = HEADER + "2026-02-13,KE,Kenya,watch_list,corroborated,x\n"
    fatf = parse_fatf_list(text.encode(), Path("lists.csv"), {"watch_list": 0.3}, None)
    assert fatf.table({"watch_list": 0.3})[country_code("KE")] == 0.3


def test_bad_row_in_an_unselected_list_still_refuses_the_file():
    text = HEADER + ROW + "2020-01-01,XX,Nowhere,increased_monitoring,corroborated,x\n"
    with pytest.raises(FatfListError, match="iso2 'XX'"):
        _parse(text)
