"""The token's user PIN, read from a file only (never from the environment or the command line)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from aegis.errors import SecurityViolation
from aegis_secrets_hsm.errors import TokenRef

#: A PIN file larger than this is not a PIN file.
MAX_PIN_FILE_BYTES = 1024


def read_pin(path: Path, token: TokenRef, *, strict: bool, log: logging.Logger) -> str:
    """The PIN in ``path`` without its trailing line break.

    The file must be a regular file; in strict mode only its owner may access it
    (mode ``0600`` or ``0400``), in permissive mode wider access is logged as a warning.

    :raises HsmFailure: when the file is missing, unreadable, empty or not UTF-8 text.
    :raises SecurityViolation: in strict mode, when group or others may access the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise token.failure(f"PIN file {path} does not exist",
                            hint="write the user PIN to it (mode 0600) or point AEGIS_HSM_PIN_FILE at it") from None
    except OSError as exc:
        raise token.failure(f"PIN file {path} cannot be opened: {exc.strerror} (uid {os.getuid()})") from None
    try:
        # Check the file actually opened (a symlink's target), so nothing can swap it between check and read.
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise token.failure(f"PIN file {path} is not a regular file")
        if mode & 0o077:
            problem = (f"HSM PIN file {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
                       f"the PIN file must be readable by its owner only: chmod 600 {path}")
            if strict:
                raise SecurityViolation(f"{problem} (label {token.label}, library {token.library})")
            log.warning("%s. Security mode permissive allows this; strict mode refuses it", problem)
        content = b""
        while len(content) <= MAX_PIN_FILE_BYTES and (chunk := os.read(fd, MAX_PIN_FILE_BYTES + 1)):
            content += chunk
    finally:
        os.close(fd)
    if len(content) > MAX_PIN_FILE_BYTES:
        raise token.failure(f"PIN file {path} is larger than {MAX_PIN_FILE_BYTES} bytes: not a PIN file")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise token.failure(f"PIN file {path} is not UTF-8 text") from None
    pin = text.removesuffix("\n").removesuffix("\r")
    if not pin:
        raise token.failure(f"PIN file {path} is empty")
    return pin
