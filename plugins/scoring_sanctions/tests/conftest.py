"""Fixtures for the sanctions plugin tests: the real list files (read-only), a shared index, builders."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aegis_scoring_sanctions.entries import SanctionsList
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.matcher import Screener
from aegis_scoring_sanctions.sources import ListSource, load_lists

from aegis.testing import samples
from aegis.testing.harness import PluginHarness

REPO = Path(__file__).resolve().parents[3]
SHARED = (REPO / ".." / "shared" / "data" / "sanctions").resolve()


@dataclass(frozen=True)
class SanctionsData:
    """Paths of the shared sanctions data (read-only)."""

    root: Path = SHARED

    @property
    def ofac(self) -> Path:
        return self.root / "ofac"

    @property
    def ofac_2019(self) -> Path:
        return self.root / "ofac-2019"

    @property
    def ofac_cons(self) -> Path:
        return self.root / "ofac-nonsdn"

    @property
    def un_xml(self) -> Path:
        return self.root / "un" / "UN_consolidated.xml"

    @property
    def eval(self) -> Path:
        return self.root / "eval"


DATA = SanctionsData()


@pytest.fixture(scope="session")
def data() -> SanctionsData:
    return DATA


@pytest.fixture(scope="session")
def lists() -> list[SanctionsList]:
    """OFAC SDN, OFAC consolidated and the UN list, read once for the session."""
    return load_lists([ListSource("ofac-csv", DATA.ofac), ListSource("ofac-cons-csv", DATA.ofac_cons),
                       ListSource("un-xml", DATA.un_xml)])


@pytest.fixture(scope="session")
def index(lists: list[SanctionsList]) -> NameIndex:
    return NameIndex.build(lists)


@pytest.fixture
def screener(index: NameIndex) -> Screener:
    return Screener(index)


@pytest.fixture
def start_sanctions(tmp_path: Path) -> Iterator[Callable[..., PluginHarness]]:
    """``start_sanctions(lists=[...], **options)``: the plugin loaded by entry point and started."""
    with ExitStack() as stack:
        def start(**config: Any) -> PluginHarness:
            config.setdefault("lists", [{"format": "un-xml", "path": str(DATA.un_xml)}])
            return stack.enter_context(PluginHarness("scoring", "sanctions", config, tmp_path / "state"))
        yield start


@pytest.fixture
def payments() -> Callable[..., list[dict]]:
    """``payments([(debtor_name, creditor_name), ...], creditor=dict(...))``: valid payments with those names."""
    rng = random.Random(5)

    def build(names: list[tuple[str, str]], **creditor: Any) -> list[dict]:
        out = []
        for k, (debtor, creditor_name) in enumerate(names):
            tx = samples.transaction(rng, samples.EPOCH, k, 500 + k)
            tx["debtor"]["name"] = debtor
            tx["creditor"]["name"] = creditor_name
            tx["creditor"].update(creditor)
            out.append(tx)
        return out

    return build
