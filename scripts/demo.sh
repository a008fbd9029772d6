#!/usr/bin/env bash
# Quick start, command 1: set everything up, then screen the bundled PaySim sample with the
# embedded default deployment (file ingress -> rules -> JSONL audit) and print the summary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO"
rm -rf var/demo  # a fresh demo each time: audit trail, resume position and dev keys
aegis run "$@"
echo "audit trail: $REPO/var/demo/aegis_audit.jsonl" >&2
