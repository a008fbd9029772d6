"""Shared fixtures: the real PaySim log (read-only) and slices of it copied into a test's tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PAYSIM = REPO.parent / "shared" / "data" / "fraud" / "paysim"


@pytest.fixture
def paysim_dir() -> Path:
    if not (PAYSIM / "rawLog.part01.csv").exists():
        pytest.skip(f"PaySim data not found at {PAYSIM}")
    return PAYSIM


@pytest.fixture
def paysim_slice(paysim_dir: Path, tmp_path: Path) -> Callable[..., Path]:
    """``paysim_slice(rows, part="rawLog.part01.csv", into=tmp_path/"paysim")``: the header plus the
    first ``rows`` rows of a real part file, written under the same name into ``into``."""

    def make(rows: int, part: str = "rawLog.part01.csv", into: Path | None = None) -> Path:
        target_dir = into or tmp_path / "paysim"
        target_dir.mkdir(parents=True, exist_ok=True)
        with open(paysim_dir / part, "rb") as f:
            lines = [f.readline() for _ in range(rows + 1)]
        target = target_dir / part
        target.write_bytes(b"".join(lines))
        return target

    return make
