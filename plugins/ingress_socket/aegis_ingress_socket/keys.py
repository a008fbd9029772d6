"""CURVE keys: checking Z85 keys, reading the client allow-list, and making key pairs."""

from __future__ import annotations

import re
from pathlib import Path

import zmq

_Z85 = re.compile(r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")


def split_keys(text: str) -> list[str]:
    """Keys from a string separated by whitespace or commas."""
    return [k for k in re.split(r"[\s,]+", text) if k]


def check_public_key(key: str, where: str = "key") -> str:
    """Return ``key`` when it is a Z85-encoded 32-byte CURVE key; raise ``ValueError`` naming ``where``."""
    key = key.strip()
    if not _Z85.match(key):
        raise ValueError(f"{where}: not a Z85 CURVE key (40 characters of the Z85 alphabet): {key[:48]!r}")
    return key


def check_secret_key(key: str, where: str = "secret key") -> None:
    """Raise ``ValueError`` when ``key`` is not a Z85 CURVE secret key (the message never shows the key)."""
    if not _Z85.match(key.strip()):
        raise ValueError(f"{where}: not a Z85 CURVE secret key (40 characters of the Z85 alphabet, "
                         f"got {len(key.strip())} characters)")


def public_key_of(secret_key: str) -> str:
    """The Z85 public key that belongs to a Z85 secret key."""
    return zmq.curve_public(secret_key.strip().encode()).decode()


def read_key_file(path: Path) -> list[str]:
    """Allowed client keys from ``path``: one Z85 key per line, optionally followed by whitespace and a
    comment; blank lines and ``#`` comment lines are ignored (``#`` is also a Z85 character, so a line
    is a key when its first word is one)."""
    keys = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        words = line.split()
        if not words or (words[0].startswith("#") and not _Z85.match(words[0])):
            continue
        keys.append(check_public_key(words[0], f"{path}:{number}"))
    return keys


def new_key_pair() -> tuple[str, str]:
    """A fresh CURVE key pair as Z85 text: ``(public, secret)``."""
    public, secret = zmq.curve_keypair()
    return public.decode(), secret.decode()
