"""The Vault token: read from its file (owner-only in strict mode) and described without ever showing it."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aegis.errors import SecurityViolation
from aegis_secrets_vault.errors import VaultTokenError


def read_token_file(path: Path, strict: bool, log: logging.Logger) -> str:
    """The token in ``path``: one line, no other content.

    :raises SecurityViolation: in strict mode, when group or others may access the file
        (permissive mode logs a warning instead).
    :raises VaultTokenError: when the file is missing, unreadable, empty or not a single token.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise VaultTokenError(f"Vault token file {path} does not exist (token_file / VAULT_TOKEN_FILE)") from None
    except OSError as exc:
        raise VaultTokenError(f"cannot read Vault token file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        # Check the file actually opened (a symlink's target), not the path, so nothing can swap it.
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise VaultTokenError(f"Vault token file {path} is not a regular file")
        if mode & 0o077:
            problem = (f"Vault token file {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
                       f"a token file must be readable by its owner only: chmod 600 {path}")
            if strict:
                raise SecurityViolation(problem)
            log.warning("security mode permissive: %s", problem)
        content = file.read(64 * 1024)
    try:
        token = content.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise VaultTokenError(f"Vault token file {path} is not UTF-8 text") from None
    if not token:
        raise VaultTokenError(f"Vault token file {path} is empty")
    if any(c.isspace() for c in token):
        raise VaultTokenError(f"Vault token file {path} must hold exactly one token (it has several words or lines)")
    return token


@dataclass(frozen=True)
class TokenInfo:
    """What ``lookup-self`` says about a token, minus the token itself."""

    display_name: str
    policies: tuple[str, ...]
    ttl: int  # whole seconds left when looked up (0 also when the token never expires)
    creation_ttl: int
    renewable: bool
    expire_time: str | None
    explicit_max_ttl: int

    @classmethod
    def from_lookup(cls, data: dict[str, Any]) -> TokenInfo:
        return cls(display_name=str(data.get("display_name") or ""),
                   policies=tuple(data.get("policies") or ()),
                   ttl=int(data.get("ttl") or 0),
                   creation_ttl=int(data.get("creation_ttl") or 0),
                   renewable=bool(data.get("renewable")),
                   expire_time=data.get("expire_time") or None,
                   explicit_max_ttl=int(data.get("explicit_max_ttl") or 0))

    @property
    def expires(self) -> bool:
        # Not ``ttl > 0``: a token with less than a second left also shows TTL 0.
        return self.expire_time is not None or self.creation_ttl > 0

    def describe(self) -> str:
        """``display name 'token-aegis', policies aegis, default, TTL 3600 s left (renewable)``."""
        if not self.expires:
            lifetime = "no expiry"
        else:
            lifetime = f"TTL {self.ttl} s left ({'renewable' if self.renewable else 'not renewable'}"
            lifetime += f", max TTL {self.explicit_max_ttl} s)" if self.explicit_max_ttl else ")"
        return f"display name {self.display_name!r}, policies {', '.join(self.policies) or '-'}, {lifetime}"
