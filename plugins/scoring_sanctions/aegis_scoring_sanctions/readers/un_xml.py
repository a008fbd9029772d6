"""UN Security Council consolidated list, official XML (``CONSOLIDATED_LIST`` with ``dateGenerated``).

Individuals have up to four name parts, aliases with a quality (``Good``, ``Low``, ``a.k.a.``,
``f.k.a.``), a name in original script, dates of birth (exact, approximate or a range of years),
nationalities and addresses; entities have a name and aliases. The entry id is the UN reference
number (e.g. ``QDi.004``). Parsed with defusedxml: list files come from outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from aegis_scoring_sanctions.countries import country_code
from aegis_scoring_sanctions.entries import (
    AKA,
    ENTITY,
    FKA,
    INDIVIDUAL,
    ORIGINAL_SCRIPT,
    PRIMARY,
    BirthDate,
    ListedName,
    ListEntry,
    SanctionsList,
    files_sha256,
)
from aegis_scoring_sanctions.readers.base import ListFormatError

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _dob(element: Element) -> BirthDate | None:
    kind = _text(element.find("TYPE_OF_DATE")).upper()
    date = _text(element.find("DATE"))
    year = _text(element.find("YEAR"))
    if kind == "BETWEEN":
        low, high = _text(element.find("FROM_YEAR")), _text(element.find("TO_YEAR"))
        if low.isdigit() and high.isdigit():
            return BirthDate(int(low), int(high), approximate=True)
        return None
    approximate = kind == "APPROXIMATELY"
    if len(date) >= 10 and date[:4].isdigit():
        return BirthDate(int(date[:4]), int(date[:4]), int(date[5:7]), int(date[8:10]), approximate)
    if year.isdigit():
        return BirthDate(int(year), int(year), approximate=approximate)
    return None


def _aliases(element: Element, tag: str) -> list[ListedName]:
    out = []
    for alias in element.findall(tag):
        name = _text(alias.find("ALIAS_NAME"))
        if not name:
            continue
        quality = _text(alias.find("QUALITY")).lower()
        out.append(ListedName(name, FKA if quality == "f.k.a." else AKA, weak=quality == "low"))
    return out


class UnXmlReader:
    """Reads ``UN_consolidated.xml``; the version is ``UN-SC-<dateGenerated>``."""

    format: ClassVar[str] = "un-xml"
    list_name: ClassVar[str] = "UN-SC"

    def files(self, path: Path) -> list[Path]:
        path = Path(path)
        if not path.is_file():
            raise ListFormatError(f"{path}: a un-xml list is the consolidated list XML file; no such file")
        return [path]

    def read(self, path: Path, source: str, version: str | None = None) -> SanctionsList:
        files = self.files(path)
        try:
            root = ElementTree.parse(files[0]).getroot()
        except Exception as exc:  # ParseError, defusedxml's forbidden constructs, OSError
            raise ListFormatError(f"{path}: not a readable UN consolidated list XML: {exc}") from exc
        if root.tag != "CONSOLIDATED_LIST":
            raise ListFormatError(f"{path}: root element is <{root.tag}>, expected <CONSOLIDATED_LIST>")
        generated = root.get("dateGenerated", "")[:10]
        entries = [self._individual(e, path) for e in root.iterfind("INDIVIDUALS/INDIVIDUAL")]
        entries += [self._entity(e, path) for e in root.iterfind("ENTITIES/ENTITY")]
        if not entries:
            raise ListFormatError(f"{path}: no INDIVIDUAL or ENTITY elements")
        ids = [e.entry_id for e in entries]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ListFormatError(f"{path}: reference numbers appear twice: {', '.join(dup[:5])}")
        sha = files_sha256(files)
        if version is None:
            version = f"{self.list_name}-{generated}" if generated else f"{self.list_name}+{sha[:8]}"
        return SanctionsList(source=source, list_name=self.list_name, version=version, entries=tuple(entries),
                             files=tuple(files), sha256=sha)

    def _entry_id(self, element: Element, path: Path) -> str:
        ref = _text(element.find("REFERENCE_NUMBER")) or _text(element.find("DATAID"))
        if not ref:
            raise ListFormatError(f"{path}: an entry has neither REFERENCE_NUMBER nor DATAID")
        return ref

    def _individual(self, element: Element, path: Path) -> ListEntry:
        entry_id = self._entry_id(element, path)
        name = " ".join(p for p in (_text(element.find(t)) for t in _NAME_PARTS) if p)
        if not name:
            raise ListFormatError(f"{path}: individual {entry_id} has no name")
        names = [ListedName(name, PRIMARY), *_aliases(element, "INDIVIDUAL_ALIAS")]
        if original := _text(element.find("NAME_ORIGINAL_SCRIPT")):
            names.append(ListedName(original, ORIGINAL_SCRIPT))
        countries = {country_code(_text(v)) for v in element.iterfind("NATIONALITY/VALUE")}
        countries |= {country_code(_text(a.find("COUNTRY"))) for a in element.iterfind("INDIVIDUAL_ADDRESS")}
        countries |= {country_code(_text(p.find("COUNTRY")))
                      for p in element.iterfind("INDIVIDUAL_PLACE_OF_BIRTH")}
        dobs = tuple(d for e in element.iterfind("INDIVIDUAL_DATE_OF_BIRTH") if (d := _dob(e)) is not None)
        return ListEntry(list_name=self.list_name, entry_id=entry_id, kind=INDIVIDUAL, names=tuple(names),
                         birth_dates=dobs, countries=frozenset(c for c in countries if c),
                         programs=(_text(element.find("UN_LIST_TYPE")),))

    def _entity(self, element: Element, path: Path) -> ListEntry:
        entry_id = self._entry_id(element, path)
        name = _text(element.find("FIRST_NAME"))
        if not name:
            raise ListFormatError(f"{path}: entity {entry_id} has no name")
        names = [ListedName(name, PRIMARY), *_aliases(element, "ENTITY_ALIAS")]
        if original := _text(element.find("NAME_ORIGINAL_SCRIPT")):
            names.append(ListedName(original, ORIGINAL_SCRIPT))
        countries = {country_code(_text(a.find("COUNTRY"))) for a in element.iterfind("ENTITY_ADDRESS")}
        return ListEntry(list_name=self.list_name, entry_id=entry_id, kind=ENTITY, names=tuple(names),
                         countries=frozenset(c for c in countries if c),
                         programs=(_text(element.find("UN_LIST_TYPE")),))
