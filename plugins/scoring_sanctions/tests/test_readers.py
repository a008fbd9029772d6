"""Every reader on the real list files, the reader registry, and refusal of malformed files."""

from __future__ import annotations

import shutil
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from aegis_scoring_sanctions.entries import AKA, ENTITY, INDIVIDUAL, ORIGINAL_SCRIPT, PRIMARY, VESSEL, BirthDate
from aegis_scoring_sanctions.readers import registry
from aegis_scoring_sanctions.readers.base import ListFormatError
from aegis_scoring_sanctions.readers.ofac_csv import OfacConsolidatedReader, OfacSdnReader, parse_dob
from aegis_scoring_sanctions.readers.un_xml import UnXmlReader
from aegis_scoring_sanctions.sources import ListSource


def test_ofac_sdn_reads_entries_aliases_dates_and_countries(data):
    sdn = OfacSdnReader().read(data.ofac, "ofac-csv:test")
    assert sdn.list_name == "OFAC-SDN" and len(sdn) == 8976
    kinds = {e.kind for e in sdn.entries}
    assert kinds == {INDIVIDUAL, ENTITY, VESSEL, "aircraft"}
    entries = sdn.by_key()
    bnc = entries[("OFAC-SDN", "306")]
    assert bnc.primary_name == "BANCO NACIONAL DE CUBA" and bnc.kind == ENTITY
    assert any(n.text == "NATIONAL BANK OF CUBA" and n.kind == AKA for n in bnc.names)
    assert any(n.text == "BNC" and n.weak for n in bnc.names)  # a.k.a. 'BNC' in the remarks
    assert "CH" in bnc.countries  # address in Zurich
    deripaska = entries[("OFAC-SDN", "24283")]
    assert deripaska.kind == INDIVIDUAL
    assert BirthDate(1968, 1968, 1, 2) in deripaska.birth_dates
    assert "RU" in deripaska.countries
    assert sdn.version.startswith("OFAC-SDN-") and sdn.sha256 and len(sdn.files) == 4


def test_ofac_version_from_config_wins(data):
    sdn = OfacSdnReader().read(data.ofac_2019, "ofac-csv:test", version="OFAC-SDN-2019-01-09")
    assert sdn.version == "OFAC-SDN-2019-01-09"
    assert len(sdn) == 7379 and len(sdn.files) == 3  # the 2019 snapshot has no comments file


def test_ofac_consolidated_non_sdn_list(data):
    cons = OfacConsolidatedReader().read(data.ofac_cons, "ofac-cons-csv:test")
    assert cons.list_name == "OFAC-CONS" and len(cons) == 442
    rabai = cons.by_key()[("OFAC-CONS", "9644")]
    assert [n.text for n in rabai.names] == ["RABAI, Khalil Musa", "RABBAI, Khalil Mussa"]
    assert rabai.birth_dates == (BirthDate(1959, 1959),)


def test_un_xml_individuals_entities_original_script_and_dates(data):
    un = UnXmlReader().read(data.un_xml, "un-xml:test")
    assert un.version == "UN-SC-2026-02-27" and len(un) == 1003
    assert sum(e.kind == INDIVIDUAL for e in un.entries) == 730
    assert sum(e.kind == ENTITY for e in un.entries) == 273
    entries = un.by_key()
    zindani = entries[("UN-SC", "QDi.156")]
    assert zindani.names[0] == zindani.names[0].__class__("ABD-AL-MAJID AZIZ AL-ZINDANI", PRIMARY)
    assert any(n.kind == ORIGINAL_SCRIPT and n.text == "عبد المجيد عزيز الزنداني" for n in zindani.names)
    assert zindani.countries == frozenset({"YE"})
    kakolele = entries[("UN-SC", "CDi.002")]
    assert {n.text for n in kakolele.names} >= {"FRANK KAKOLELE BWAMBALE", "AIGLE BLANC"}
    ranges = [d for e in un.entries for d in e.birth_dates if d.year_from != d.year_to]
    assert ranges and all(d.approximate for d in ranges)  # TYPE_OF_DATE BETWEEN
    assert any(n.weak for e in un.entries for n in e.names)  # QUALITY Low


@pytest.mark.parametrize(("text", "expected"), [
    ("01 Jan 1960", BirthDate(1960, 1960, 1, 1)),
    ("1962", BirthDate(1962, 1962)),
    ("circa 1958", BirthDate(1958, 1958, approximate=True)),
    ("1959 to 1961", BirthDate(1959, 1961)),
    ("01 Jan 1989 to 31 Dec 1989", BirthDate(1989, 1989, 1, 1)),
    ("Jan 1960", BirthDate(1960, 1960, 1, 0)),
])
def test_ofac_date_of_birth_forms(text, expected):
    assert parse_dob(text) == expected


def test_malformed_ofac_row_names_file_and_line(data, tmp_path: Path):
    folder = tmp_path / "ofac"
    shutil.copytree(data.ofac_2019, folder)
    with (folder / "sdn.csv").open("a") as fh:
        fh.write('\nnot-a-number,"X","individual"\n')
    with pytest.raises(ListFormatError, match=r"sdn\.csv:\d+: expected an entry number"):
        OfacSdnReader().read(folder, "ofac-csv:test")


def test_missing_ofac_file_is_named(tmp_path: Path):
    (tmp_path / "sdn.csv").write_text("")
    with pytest.raises(ListFormatError, match=r"missing alt\.csv, add\.csv"):
        OfacSdnReader().files(tmp_path)


def test_un_xml_wrong_root_and_broken_xml(data, tmp_path: Path):
    wrong = tmp_path / "wrong.xml"
    wrong.write_text("<SOMETHING/>")
    with pytest.raises(ListFormatError, match=r"expected <CONSOLIDATED_LIST>"):
        UnXmlReader().read(wrong, "un-xml:test")
    broken = tmp_path / "broken.xml"
    broken.write_bytes(data.un_xml.read_bytes()[:5000])
    with pytest.raises(ListFormatError, match=r"not a readable UN consolidated list XML"):
        UnXmlReader().read(broken, "un-xml:test")


def test_registry_finds_the_installed_readers_by_entry_point():
    assert {"ofac-csv", "ofac-cons-csv", "un-xml"} <= set(registry.installed_formats())
    assert isinstance(registry.reader("un-xml"), UnXmlReader)
    with pytest.raises(ListFormatError, match=r"no sanctions list reader for format 'eu-xml'.*installed: "):
        registry.reader("eu-xml")
    with pytest.raises(ListFormatError, match=r"expected FORMAT:PATH"):
        ListSource.parse("just-a-path")


class PipeSeparatedReader:
    """A vendor's format: ``id|kind|name`` lines (the test's own list format)."""

    format = "pipe-test"

    def files(self, path: Path) -> list[Path]:
        return [Path(path)]

    def read(self, path: Path, source: str, version: str | None = None):
        from aegis_scoring_sanctions.entries import ListedName, ListEntry, SanctionsList
        rows = [line.split("|") for line in Path(path).read_text().splitlines() if line]
        entries = tuple(ListEntry("PIPE", i, kind, (ListedName(name),)) for i, kind, name in rows)
        return SanctionsList(source, "PIPE", version or "PIPE-1", entries, (Path(path),))


def test_a_vendor_reader_plugs_in_through_the_entry_point_group(monkeypatch, tmp_path: Path):
    installed = registry.entry_points(group=registry.GROUP)
    vendor = EntryPoint("pipe-test", f"{__name__}:PipeSeparatedReader", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [*installed, vendor] if group == registry.GROUP else [])
    registry.reader.cache_clear()
    try:
        listing = tmp_path / "list.txt"
        listing.write_text("1|individual|Ivan Vendorov\n")
        loaded = ListSource.parse(f"pipe-test:{listing}").load()
        assert loaded.version == "PIPE-1" and loaded.entries[0].primary_name == "Ivan Vendorov"
        assert "pipe-test" in registry.installed_formats()
    finally:
        registry.reader.cache_clear()
