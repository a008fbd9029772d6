"""PaySim logs: mapping, labels side channel, deterministic UETRs and times, part directories."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aegis_ingress_file.config import PAYSIM_UETR_NAMESPACE
from aegis_ingress_file.reader import ROUND

from aegis.decode import decode
from aegis.model import AccountIndex, RawBatch
from aegis.testing.harness import PluginHarness


def drain(h: PluginHarness, max_records: int) -> list[RawBatch]:
    batches = []
    while True:
        raw = h.call("aegis_ingress_poll", max_records=max_records)
        batches.append(raw)
        if raw.final:
            return batches


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_rows_become_valid_transactions_field_by_field(paysim_slice, tmp_path):
    part = paysim_slice(3000)
    rows = rows_of(part)
    with PluginHarness("ingress", "file", {"path": str(part.parent), "currency": "USD"}, tmp_path / "s") as h:
        batches = drain(h, 1000)
    payloads = [p for b in batches for p in b.payloads]
    assert len(payloads) == len(rows) == 3000
    for payload, row in zip(payloads[:50] + payloads[-50:], rows[:50] + rows[-50:], strict=True):
        assert payload["amount"] == row["amount"]  # exactly as written
        assert payload["currency"] == "USD"
        assert payload["debtor"] == {"account": row["nameOrig"]}  # no invented country
        assert payload["creditor"] == {"account": row["nameDest"]}
        assert payload["channel"] == row["action"]
        assert payload["debtor_balance_before"] == row["oldBalanceOrig"]
        assert payload["creditor_balance_before"] == row["oldBalanceDest"]
    accounts = AccountIndex()
    decoded = [decode(b, accounts) for b in batches]
    assert all(not rejects for _, rejects in decoded)
    assert sum(batch.n for batch, _ in decoded if batch is not None) == 3000


def test_is_fraud_travels_as_label_never_in_the_transaction(paysim_slice, tmp_path):
    part = paysim_slice(3000)  # rows 2423 and 2424 (lines 2424, 2425) are fraud
    rows = rows_of(part)
    with PluginHarness("ingress", "file", {"path": str(part)}, tmp_path / "s") as h:
        batches = drain(h, 700)
    labels = [v for b in batches for v in b.labels["is_fraud"]]
    assert all(len(b.labels["is_fraud"]) == len(b.payloads) for b in batches)
    assert labels == [r["isFraud"] == "1" for r in rows]
    assert sum(labels) == 2
    assert not any(k.lower().startswith("is") for b in batches for p in b.payloads for k in p)
    batch, _ = decode(batches[3], AccountIndex())
    assert batch is not None and batch.labels["is_fraud"].dtype == bool
    assert batch.labels["is_fraud"].sum() == 2  # lines 2424-2425 are in the fourth batch of 700


def test_uetrs_are_uuid5_of_file_and_line_and_repeat_on_replay(paysim_slice, tmp_path):
    part = paysim_slice(500)
    config = {"path": str(part), "resume": False}
    with PluginHarness("ingress", "file", config, tmp_path / "s") as h:
        first = drain(h, 128)
    with PluginHarness("ingress", "file", config, tmp_path / "s") as h:
        second = drain(h, 77)
    uetrs = [p["uetr"] for b in first for p in b.payloads]
    assert uetrs == [p["uetr"] for b in second for p in b.payloads]
    assert len(set(uetrs)) == 500
    assert uetrs[0] == str(uuid.uuid5(PAYSIM_UETR_NAMESPACE, "rawLog.part01.csv:2"))
    assert uetrs[499] == str(uuid.uuid5(PAYSIM_UETR_NAMESPACE, "rawLog.part01.csv:501"))
    other = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with PluginHarness("ingress", "file", {**config, "uetr_namespace": str(other)}, tmp_path / "s2") as h:
        raw = h.call("aegis_ingress_poll", max_records=1)
    assert raw.payloads[0]["uetr"] == str(uuid.uuid5(other, "rawLog.part01.csv:2"))


def test_created_at_is_step_hour_plus_rank_and_keeps_file_order(paysim_slice, tmp_path):
    part = paysim_slice(5000)
    rows = rows_of(part)
    start = datetime(2025, 6, 1, 12, tzinfo=UTC)
    with PluginHarness("ingress", "file", {"path": str(part), "start": start.isoformat()}, tmp_path / "s") as h:
        payloads = [p for b in drain(h, 999) for p in b.payloads]
    times = [datetime.fromisoformat(p["created_at"]) for p in payloads]
    assert times == sorted(times) and len(set(times)) == len(times)
    rank: dict[str, int] = {}
    for t, row in zip(times, rows, strict=True):
        r = rank[row["step"]] = rank.get(row["step"], -1) + 1
        assert t == start + timedelta(hours=int(row["step"]), seconds=r)


def test_directory_reads_part_files_in_order_as_one_stream(paysim_slice, tmp_path):
    into = tmp_path / "parts"
    second = paysim_slice(300, "rawLog.part02.csv", into)
    first = paysim_slice(300, "rawLog.part01.csv", into)
    (into / "notes.txt").write_text("not a part file")
    with PluginHarness("ingress", "file", {"path": str(into)}, tmp_path / "s") as h:
        batches = drain(h, 250)
    origins = [o for b in batches for o in b.origins]
    assert origins == [f"rawLog.part01.csv:{n}" for n in range(2, 302)] + \
                      [f"rawLog.part02.csv:{n}" for n in range(2, 302)]
    assert [len(b.payloads) for b in batches] == [250, 250, 100]
    assert batches[-1].final and not any(b.final for b in batches[:-1])
    total = first.stat().st_size + second.stat().st_size
    assert [b.progress for b in batches][-1] == (total, total)
    done = [b.progress[0] for b in batches]
    assert done == sorted(done) and batches[0].progress[1] == total
    # the repeated header of part 2 is skipped, not delivered nor rejected
    assert not any(b.rejects for b in batches)


def test_real_log_directory_reads_and_decodes(paysim_dir, tmp_path):
    with PluginHarness("ingress", "file", {"path": str(paysim_dir)}, tmp_path / "s") as h:
        raws = [h.call("aegis_ingress_poll", max_records=5000) for _ in range(2)]
    assert [r.origins[0] for r in raws] == ["rawLog.part01.csv:2", "rawLog.part01.csv:5002"]
    assert not any(r.final for r in raws)
    accounts = AccountIndex()
    for raw in raws:
        batch, rejects = decode(raw, accounts)
        assert not rejects and batch is not None and batch.n == 5000
    assert 0 < raws[1].progress[0] < raws[1].progress[1] == sum(p.stat().st_size
                                                              for p in paysim_dir.glob("rawLog.part*.csv"))


def test_a_huge_poll_is_cut_short_to_stay_prompt(paysim_dir, tmp_path):
    with PluginHarness("ingress", "file", {"path": str(paysim_dir)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=1_000_000)
    assert ROUND <= len(raw.payloads) < 159_903 and not raw.final
    assert raw.token.records == len(raw.payloads)  # the position stops where the batch stops


def test_bad_rows_are_rejected_with_origin_and_zero_amounts_left_to_the_kernel(paysim_slice, tmp_path):
    part = paysim_slice(3)
    with open(part, "ab") as f:
        f.write(b"1,PAYMENT,0.00,C1,10.00,10.00,M2,0.00,0.00,0,0,0\n")  # line 5: kernel's to reject
        f.write(b"1,PAYMENT,12.00,C1\n")  # line 6: not a PaySim row
        f.write(b"\n")  # line 7: blank, skipped
        f.write(b"x,PAYMENT,12.00,C1,10.00,10.00,M2,0.00,0.00,0,0,0\n")  # line 8: step is no hour
        f.write(b"1,PAYMENT,\xff12.00,C1,10.00,10.00,M2,0.00,0.00,0,0,0\n")  # line 9: not UTF-8
        f.write(b"2,DEBIT,5.00,C1,10.00,5.00,M2,0.00,0.00,0,0,0")  # line 10: no final newline
    with PluginHarness("ingress", "file", {"path": str(part)}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=100)
    assert raw.final
    assert raw.origins == [f"rawLog.part01.csv:{n}" for n in (2, 3, 4, 5, 10)]
    assert [(r.origin, r.reason.split(",")[0]) for r in raw.rejects] == [
        ("rawLog.part01.csv:6", "a PaySim row has 12 cells"),
        ("rawLog.part01.csv:8", "step 'x' is not an hour index (a non-negative integer)"),
        ("rawLog.part01.csv:9", "the row is not UTF-8 text")]
    assert raw.rejects[0].payload == b"1,PAYMENT,12.00,C1"
    assert len(raw.labels["is_fraud"]) == len(raw.payloads) == 5
    batch, rejects = decode(raw, AccountIndex())
    assert batch is not None and batch.n == 4
    zero = [r for r in rejects if r.origin == "rawLog.part01.csv:5"]
    assert len(zero) == 1 and "amount" in zero[0].reason


def test_country_is_set_only_when_configured(paysim_slice, tmp_path):
    part = paysim_slice(5)
    with PluginHarness("ingress", "file", {"path": str(part), "country": "KE"}, tmp_path / "s") as h:
        raw = h.call("aegis_ingress_poll", max_records=5)
    assert all(p["debtor"]["country"] == p["creditor"]["country"] == "KE" for p in raw.payloads)


def test_csv_suffix_with_paysim_header_is_read_as_paysim(paysim_slice, tmp_path):
    part = paysim_slice(10)
    renamed = part.rename(part.with_name("paysim_sample.csv"))
    with PluginHarness("ingress", "file", {"path": str(renamed)}, tmp_path / "s") as h:
        assert h.plugin.format == "paysim"
        results = h.host.self_test()
        raw = h.call("aegis_ingress_poll", max_records=10)
    assert raw.labels["is_fraud"] and raw.origins[0] == "paysim_sample.csv:2"
    assert [r.check for r in results] == ["source readable", "format detected"]
    assert all(r.ok for r in results) and "paysim" in results[1].detail


@pytest.mark.parametrize("start", ["2026-01-01T00:30:00Z", "2026-01-01T00:00:00"])
def test_start_must_be_an_aware_whole_hour(start, paysim_slice, tmp_path):
    from aegis_ingress_file.config import FileIngressConfig
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="start"):
        FileIngressConfig.model_validate({"path": str(tmp_path / "x.csv"), "start": start})


def test_a_directory_without_part_files_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exception, match=r"empty holds no rawLog\.part\*\.csv"):
        with PluginHarness("ingress", "file", {"path": str(tmp_path / "empty")}, tmp_path / "s"):
            pass
