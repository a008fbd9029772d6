"""Sanctions screening benchmark: quality and speed of the `sanctions` plugin against the issue's baselines.

Runs with no arguments from the repository root (the shared data sits at ../shared/data):

    python bench/sanctions.py

Prints the tables and ends with one JSON line of figures. Needs the plugin installed
(pip install -e plugins/scoring_sanctions[bench]); without `faker` the synthetic negatives are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from aegis_scoring_sanctions.report import run

DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sanctions").resolve()

if __name__ == "__main__":
    print(json.dumps(run(DATA)))  # the last line: every figure, for run-to-run comparison
