"""Software signing keys on disk: one PKCS#8 PEM file per key name, ECDSA P-256, mode 0600."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aegis.errors import AegisError, SecurityViolation

#: Key names are plain file stems: no separators, so no path traversal out of the key directory.
KEY_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class SigningKeyError(AegisError):
    """A signing key name or key file cannot be used (bad name, unreadable, not an ECDSA P-256 key)."""


def key_path(key_dir: Path, key: str) -> Path:
    """The PEM file of signing key ``key`` in ``key_dir``; refuses names that could leave the directory."""
    if not isinstance(key, str) or not KEY_NAME.fullmatch(key):
        raise SigningKeyError(f"invalid signing key name {key!r}: a key name may only contain letters, digits, "
                              f"'_', '.' and '-' (it names the file <key>.pem in {key_dir})")
    return Path(key_dir) / f"{key}.pem"


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read an unencrypted PKCS#8/PEM ECDSA P-256 private key that only its owner can read.

    :raises FileNotFoundError: when there is no such file.
    :raises SecurityViolation: when group or others may read or write the file.
    :raises SigningKeyError: when the file is not a usable P-256 private key.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as file:
        # Check the file actually opened (a symlink's target), not the path, so nothing can swap it.
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SigningKeyError(f"signing key {path} is not a regular file")
        if mode & 0o077:
            raise SecurityViolation(
                f"private key file {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
                f"a signing key must be readable by its owner only: chmod 600 {path}")
        pem = file.read()
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:  # the PEM is encrypted
        raise SigningKeyError(f"signing key {path} is encrypted; the env backend needs an unencrypted "
                              f"PKCS#8 PEM (mode 0600)") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"signing key {path} is not a PEM private key: {exc}") from exc
    if not (isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1)):
        kind = getattr(getattr(private_key, "curve", None), "name", None) or type(private_key).__name__
        raise SigningKeyError(f"signing key {path} is a {kind} key; the env backend signs with ECDSA P-256 "
                              f"(secp256r1) keys only")
    return private_key


def generate_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Create a new ECDSA P-256 signing key at ``path`` as PKCS#8 PEM with mode 0600 and return it.

    The file appears atomically and complete (written to a private temporary file, then
    hard-linked into place); an existing file is never overwritten.

    :raises FileExistsError: when ``path`` already exists.
    """
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise FileExistsError(f"signing key {path} already exists; refusing to overwrite it") from None
    finally:
        os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return private_key


def public_key_pem(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public half as PEM SubjectPublicKeyInfo."""
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
