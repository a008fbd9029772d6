"""Reading and validating the denylist CSV."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from acme_denylist.denylist import DenylistError, read_denylist

from aegis.testing.samples import german_iban

SAMPLE = Path(__file__).resolve().parents[1] / "denylist.csv"
HEADER = "account,reason,listed_at,listed_by\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "denylist.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_list_loads_with_its_version():
    denylist = read_denylist(SAMPLE)
    assert len(denylist) == 8
    assert denylist.version == "sha256:" + hashlib.sha256(SAMPLE.read_bytes()).hexdigest()[:16]
    entry = denylist.entries[german_iban(4711)]
    assert entry.reason == "synthetic identity, account closed"  # a quoted cell with a comma
    assert (entry.listed_at, entry.listed_by, entry.line) == ("2025-09-30", "fincrime-ops@acme.example", 5)
    assert "ACC-000013" in denylist.entries


def test_iban_is_normalised_like_a_transaction_account(tmp_path):
    iban = german_iban(7)
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    denylist = read_denylist(write(tmp_path, HEADER + f"{spaced},mule,2025-11-03,ops\n"))
    assert list(denylist.entries) == [iban]


def test_version_changes_with_content(tmp_path):
    first = read_denylist(write(tmp_path, HEADER + "ACC-1,mule,2025-11-03,ops\n")).version
    second = read_denylist(write(tmp_path, HEADER + "ACC-2,mule,2025-11-03,ops\n")).version
    assert first != second and first.startswith("sha256:") and len(first) == len("sha256:") + 16


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("ACC-1,mule,2025-11-03,ops\n", "header must be account,reason,listed_at,listed_by"),
    (HEADER, "no accounts listed"),
    (HEADER + "ACC-1,mule,2025-11-03\n", ":2: expected 4 columns"),
    (HEADER + "DE00370400440000000007,mule,2025-11-03,ops\n", ":2: account 'DE00370400440000000007': invalid IBAN"),
    (HEADER + "ACC-1,,2025-11-03,ops\n", ":2: account ACC-1: reason is empty"),
    (HEADER + "ACC-1,mule,3 Nov 2025,ops\n", ":2: account ACC-1: listed_at '3 Nov 2025' is not an ISO 8601 date"),
    (HEADER + "ACC-1,mule,2025-11-03,\n", ":2: account ACC-1: listed_by is empty"),
    (HEADER + "ACC-1,mule,2025-11-03,ops\nACC-1,again,2025-11-04,ops\n",
     ":3: account ACC-1 is already listed on line 2"),
    (HEADER + 'ACC-1,"unterminated,2025-11-03,ops\n', "malformed CSV"),
])
def test_bad_file_is_refused_naming_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DenylistError) as excinfo:
        read_denylist(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_every_bad_row_is_reported_at_once(tmp_path):
    rows = "".join(f"ACC-{i},mule,not-a-date,ops\n" for i in range(8))
    with pytest.raises(DenylistError, match=r"8 bad row\(s\).*:6: .*and 3 more"):
        read_denylist(write(tmp_path, HEADER + rows))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DenylistError, match=r"cannot read denylist .*nowhere\.csv: No such file"):
        read_denylist(tmp_path / "nowhere.csv")
