#!/usr/bin/env bash
# Quick start, command 2 (and CI): set everything up, lint, then run the whole test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO"
say "ruff"
ruff check .
say "pytest"
# pytest exits 5 when it collected no tests; that is a failure here, as is any other non-zero code.
python -m pytest "$@"
