"""Sanctions screening benchmark: quality and speed of the `sanctions` plugin against the issue's baselines.

Runs with no arguments from the repository root (the shared data sits at ../shared/data):

    python bench/sanctions.py

Prints the tables and ends with one JSON line of figures. Needs the plugin installed
(pip install -e plugins/scoring_sanctions[bench]); without `faker` the synthetic negatives are skipped.
"""

from __future__ import annotations

from pathlib import Path

from aegis_scoring_sanctions.report import main

DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sanctions").resolve()

if __name__ == "__main__":
    main(DATA)
