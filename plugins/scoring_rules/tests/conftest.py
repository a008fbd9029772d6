"""Fixtures for the rules plugin tests: the real FATF list, a started plugin, payment builders."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aegis.testing import samples
from aegis.testing.harness import PluginHarness

REPO = Path(__file__).resolve().parents[3]
FATF_CSV = (REPO / ".." / "shared" / "data" / "country_risk" / "fatf_lists.csv").resolve()


@pytest.fixture
def fatf_csv() -> Path:
    """The FATF list file shipped with the shared data (read-only)."""
    return FATF_CSV


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture
def start_rules(tmp_path: Path, fatf_csv: Path) -> Iterator[Callable[..., PluginHarness]]:
    """``start_rules(velocity={...}, geo={...})``: the plugin loaded by entry point and started."""
    with ExitStack() as stack:
        def start(**sections: Any) -> PluginHarness:
            config = _merged({"geo": {"fatf_list": str(fatf_csv)}}, sections)
            return stack.enter_context(PluginHarness("scoring", "rules", config, tmp_path))
        yield start


@pytest.fixture
def payments() -> Callable[..., list[dict]]:
    """``payments(debtor, offsets_s, amounts, creditor_country=..., debtor_country=...)``: valid payments.

    ``offsets_s`` are seconds after :data:`aegis.testing.samples.EPOCH`; ``amounts`` is one amount
    per payment or a single amount for all.
    """
    rng = random.Random(11)

    def build(debtor: int, offsets_s: Sequence[float], amounts: Sequence[float] | float = 100.0,
              creditor_country: str = "DE", debtor_country: str = "DE") -> list[dict]:
        if isinstance(amounts, (int, float)):
            amounts = [amounts] * len(offsets_s)
        out = []
        for k, (offset, amount) in enumerate(zip(offsets_s, amounts, strict=True)):
            tx = samples.transaction(rng, samples.EPOCH + timedelta(seconds=offset), debtor, 900 + k,
                                     amount=f"{amount:.2f}")
            tx["debtor"]["country"] = debtor_country
            tx["creditor"]["country"] = creditor_country
            out.append(tx)
        return out

    return build
