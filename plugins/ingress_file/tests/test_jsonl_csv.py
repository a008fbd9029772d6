"""JSON Lines and generic CSV: payloads, origins, rejects, format detection and config errors."""

from __future__ import annotations

import csv
import io

import orjson
import pytest
from aegis_ingress_file.config import FileIngressConfig
from aegis_ingress_file.flat_csv import COLUMNS
from pydantic import ValidationError

from aegis.decode import decode
from aegis.errors import PluginLoadError
from aegis.model import AccountIndex
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def flatten(tx: dict) -> dict[str, str]:
    flat = {k: v for k, v in tx.items() if k not in ("debtor", "creditor")}
    for party in ("debtor", "creditor"):
        flat.update({f"{party}_{k}": v for k, v in tx.get(party, {}).items()})
    return flat


def write_csv(path, txs: list[dict], columns: list[str]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flatten(t) for t in txs)
    path.write_text(out.getvalue())


def test_jsonl_payloads_are_the_raw_lines_and_blank_lines_are_skipped(tmp_path):
    txs = transactions(6, seed=3)
    lines = [orjson.dumps(t) for t in txs]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(lines[0] + b"\n\n" + lines[1] + b"\r\n   \n" + b"\n".join(lines[2:]))  # no final newline
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=100)
    assert raw.payloads == lines
    assert raw.origins == ["feed.jsonl:1", "feed.jsonl:3", "feed.jsonl:5", "feed.jsonl:6", "feed.jsonl:7",
                           "feed.jsonl:8"]
    assert raw.final and raw.progress == (path.stat().st_size, path.stat().st_size)
    batch, rejects = decode(raw, AccountIndex())
    assert not rejects and batch is not None and batch.uetr == [t["uetr"] for t in txs]


def test_jsonl_bad_lines_reach_the_kernel_as_raw_bytes(tmp_path):
    path = tmp_path / "feed.json"
    good = orjson.dumps(transactions(1)[0])
    path.write_bytes(good + b"\n{not json\n")
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=10)
    batch, rejects = decode(raw, AccountIndex())
    assert batch is not None and batch.n == 1
    assert [(r.origin, r.payload) for r in rejects] == [("feed.json:2", b"{not json")]


def test_csv_rows_become_nested_transactions_empty_cells_absent(tmp_path):
    txs = transactions(40, seed=9)
    txs[3]["remittance_info"] = 'Invoice 7, "urgent"\nsecond line'  # quoted comma, quote and newline
    txs[5]["purpose"] = "SALA"
    path = tmp_path / "feed.csv"
    columns = list(COLUMNS)
    write_csv(path, txs, columns)
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=100)
    assert raw.payloads[3]["remittance_info"] == txs[3]["remittance_info"]
    assert raw.payloads[0] == txs[0]  # every cell a string, empty ones absent
    assert "purpose" not in raw.payloads[4] and raw.payloads[5]["purpose"] == "SALA"
    # the quoted newline makes row 4 span lines 5-6, so row 5 starts on line 7
    assert raw.origins[:6] == ["feed.csv:2", "feed.csv:3", "feed.csv:4", "feed.csv:5", "feed.csv:7", "feed.csv:8"]
    batch, rejects = decode(raw, AccountIndex())
    assert not rejects and batch is not None and batch.uetr == [t["uetr"] for t in txs]


def test_csv_row_with_wrong_cell_count_is_rejected_with_origin(tmp_path):
    txs = transactions(3, seed=4)
    path = tmp_path / "feed.csv"
    columns = ["uetr", "created_at", "amount", "currency", "debtor_account", "creditor_account"]
    write_csv(path, [{k: v for k, v in t.items() if k != "debtor" and k != "creditor"}
                     | {"debtor": {"account": t["debtor"]["account"]},
                        "creditor": {"account": t["creditor"]["account"]}} for t in txs], columns)
    with open(path, "a") as f:
        f.write("abc,2026-01-05T09:00:00+00:00,10.00\n")
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=100)
    assert len(raw.payloads) == 3
    assert [(r.origin, r.reason, r.payload) for r in raw.rejects] == [
        ("feed.csv:5", "the row has 3 cells but the header has 6", b"abc,2026-01-05T09:00:00+00:00,10.00")]
    _, rejects = decode(raw, AccountIndex())
    assert [r.origin for r in rejects] == ["feed.csv:5"]  # handed on to the dead letters, not dropped


def test_csv_max_records_counts_rejects_too(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("uetr,amount\n1\n2\n3\n4\n")
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        first = h.call("aegis_ingress_poll", max_records=3)
        second = h.call("aegis_ingress_poll", max_records=3)
    assert [r.origin for r in first.rejects] == ["feed.csv:2", "feed.csv:3", "feed.csv:4"] and not first.final
    assert [r.origin for r in second.rejects] == ["feed.csv:5"] and second.final


def test_csv_unknown_column_is_a_startup_error_naming_it(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("uetr,amount,colour\n")
    with pytest.raises(PluginLoadError, match=r"unknown CSV column\(s\) \['colour'\]"):
        with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s"):
            pass


def test_missing_file_error_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "feed.jsonl"
    with pytest.raises(PluginLoadError, match=f"file source {missing} does not exist"):
        with PluginHarness("ingress", "file", {"path": str(missing)}, tmp_path / "s"):
            pass


def test_format_must_be_known(tmp_path):
    with pytest.raises(ValidationError, match=r"cannot tell the format of .*feed\.txt"):
        FileIngressConfig.model_validate({"path": str(tmp_path / "feed.txt")})
    assert FileIngressConfig.model_validate({"path": str(tmp_path / "feed.txt"), "format": "jsonl"}).format == "jsonl"
    with pytest.raises(ValidationError, match="only format paysim reads a directory"):
        FileIngressConfig.model_validate({"path": str(tmp_path), "format": "csv"})


def test_self_test_reports_readable_and_format(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(orjson.dumps(transactions(1)[0]) + b"\n")
    with PluginHarness("ingress", "file", {"path": str(path)}, tmp_path / "s") as h:
        results = h.host.self_test()
        path.unlink()
        gone = h.host.self_test()
    assert all(r.ok for r in results) and "jsonl (from the suffix .jsonl)" in results[1].detail
    assert not gone[0].ok and str(path) in gone[0].detail
