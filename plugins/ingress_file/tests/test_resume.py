"""Resuming after acknowledged records, the final flag, progress, and refusing a changed source."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from aegis_ingress_file.flat_csv import COLUMNS
from aegis_ingress_file.position import default_state_name

from aegis.errors import PluginLoadError
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def make_source(fmt: str, tmp_path: Path, paysim_slice) -> Path:
    """A source of 200 records in ``fmt``."""
    if fmt == "paysim":
        return paysim_slice(200)
    txs = transactions(200, seed=11)
    if fmt == "jsonl":
        path = tmp_path / "feed.jsonl"
        path.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in txs))
        return path
    path = tmp_path / "feed.csv"
    lines = [",".join(COLUMNS)]
    for t in txs:
        flat = {k: v for k, v in t.items() if k not in ("debtor", "creditor")}
        flat |= {f"{p}_{k}": v for p in ("debtor", "creditor") for k, v in t[p].items()}
        lines.append(",".join(str(flat.get(c, "")) for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "paysim"])
def test_restart_continues_after_the_acknowledged_batch(fmt, tmp_path, paysim_slice):
    source = make_source(fmt, tmp_path, paysim_slice)
    config = {"path": str(source)}
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        first = h.call("aegis_ingress_poll", max_records=40)
        second = h.call("aegis_ingress_poll", max_records=40)
        h.call("aegis_ingress_ack", batch=first, decisions=None, rejects=[])
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        resumed = h.call("aegis_ingress_poll", max_records=40)
    assert resumed.origins == second.origins
    assert resumed.payloads == second.payloads  # same UETRs and created_at, PaySim's clock included
    assert resumed.progress == second.progress


def test_paysim_directory_resumes_inside_a_later_part(paysim_slice, tmp_path):
    into = tmp_path / "parts"
    paysim_slice(100, "rawLog.part01.csv", into)
    paysim_slice(100, "rawLog.part02.csv", into)
    config = {"path": str(into)}
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        batches = [h.call("aegis_ingress_poll", max_records=70) for _ in range(3)]
        for raw in batches[:2]:
            h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    assert batches[1].origins[-1] == "rawLog.part02.csv:41"
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        resumed = h.call("aegis_ingress_poll", max_records=70)
    assert resumed.origins == batches[2].origins and resumed.origins[0] == "rawLog.part02.csv:42"
    assert resumed.payloads == batches[2].payloads and resumed.final


def test_position_file_is_replaced_atomically_and_names_the_file(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    state = tmp_path / "state"
    with PluginHarness("ingress", "file", {"path": str(source)}, state) as h:
        raw = h.call("aegis_ingress_poll", max_records=25)
        h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    assert sorted(p.name for p in state.iterdir()) == [default_state_name(source)]
    saved = orjson.loads((state / default_state_name(source)).read_bytes())
    lines = source.read_bytes().split(b"\n")
    assert saved["offset"] == sum(len(line) + 1 for line in lines[:25]) and saved["line"] == 25
    assert saved["records"] == 25 and saved["file"]["name"] == "feed.jsonl"
    assert saved["file"]["inode"] == os.stat(source).st_ino


def test_state_name_and_resume_false(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    config = {"path": str(source), "state_name": "replay.json"}
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        raw = h.call("aegis_ingress_poll", max_records=30)
        h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    assert (tmp_path / "state" / "replay.json").exists()
    with PluginHarness("ingress", "file", {**config, "resume": False}, tmp_path / "state") as h:
        again = h.call("aegis_ingress_poll", max_records=30)
    assert again.origins == raw.origins


def test_final_flag_and_progress_to_the_end_then_nothing_after_restart(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    size = source.stat().st_size
    with PluginHarness("ingress", "file", {"path": str(source)}, tmp_path / "state") as h:
        batches = [h.call("aegis_ingress_poll", max_records=50) for _ in range(4)]
        after = h.call("aegis_ingress_poll", max_records=50)
        for raw in [*batches, after]:
            h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    assert [b.final for b in batches] == [False, False, False, True]  # 200 = 4 × 50: the 4th is last
    assert after.final and after.payloads == [] and after.progress == (size, size)
    done = [b.progress[0] for b in batches]
    assert done == sorted(done) and done[-1] == size and all(b.progress[1] == size for b in batches)
    with PluginHarness("ingress", "file", {"path": str(source)}, tmp_path / "state") as h:
        raw = h.call("aegis_ingress_poll", max_records=50)
    assert raw.final and raw.payloads == [] and raw.rejects == []


def _acknowledge_some(source: Path, state: Path) -> None:
    with PluginHarness("ingress", "file", {"path": str(source)}, state) as h:
        raw = h.call("aegis_ingress_poll", max_records=120)
        h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])


def test_replaced_file_is_refused_clearly(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    _acknowledge_some(source, tmp_path / "state")
    copy = source.with_name("copy.jsonl")
    copy.write_bytes(source.read_bytes())
    os.replace(copy, source)
    with pytest.raises(PluginLoadError, match=r"feed.jsonl was replaced \(inode .*delete .*resume: false"):
        with PluginHarness("ingress", "file", {"path": str(source)}, tmp_path / "state"):
            pass
    with PluginHarness("ingress", "file", {"path": str(source), "resume": False}, tmp_path / "state") as h:
        assert h.call("aegis_ingress_poll", max_records=1).origins == ["feed.jsonl:1"]


def test_shrunk_file_is_refused_clearly(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    _acknowledge_some(source, tmp_path / "state")
    os.truncate(source, 100)
    with pytest.raises(PluginLoadError, match=r"feed.jsonl shrank to 100 bytes but records up to byte \d+ were"):
        with PluginHarness("ingress", "file", {"path": str(source)}, tmp_path / "state"):
            pass


def test_file_rewritten_in_place_is_refused_clearly(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    _acknowledge_some(source, tmp_path / "state")
    with open(source, "r+b") as f:
        f.write(b" ")
    with pytest.raises(PluginLoadError, match=r"first 4096 bytes of .*feed.jsonl changed"):
        with PluginHarness("ingress", "file", {"path": str(source)}, tmp_path / "state"):
            pass


def test_part_file_removed_from_directory_is_refused_clearly(tmp_path, paysim_slice):
    into = tmp_path / "parts"
    paysim_slice(50, "rawLog.part01.csv", into)
    paysim_slice(50, "rawLog.part02.csv", into)
    with PluginHarness("ingress", "file", {"path": str(into)}, tmp_path / "state") as h:
        raw = h.call("aegis_ingress_poll", max_records=80)
        h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    (into / "rawLog.part01.csv").unlink()
    with pytest.raises(PluginLoadError, match=r"rawLog.part02.csv \(file 2 of the source\).*now holds"):
        with PluginHarness("ingress", "file", {"path": str(into)}, tmp_path / "state"):
            pass


def test_appended_records_are_read_after_a_restart(tmp_path, paysim_slice):
    source = make_source("jsonl", tmp_path, paysim_slice)
    config = {"path": str(source)}
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        while not (raw := h.call("aegis_ingress_poll", max_records=500)).final:
            pass
        h.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
    extra = transactions(3, seed=99)
    with open(source, "ab") as f:
        f.write(b"".join(orjson.dumps(t) + b"\n" for t in extra))
    with PluginHarness("ingress", "file", config, tmp_path / "state") as h:
        raw = h.call("aegis_ingress_poll", max_records=500)
    assert raw.origins == ["feed.jsonl:201", "feed.jsonl:202", "feed.jsonl:203"] and raw.final
