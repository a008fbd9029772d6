"""Signing keys in Vault's Transit engine: created non-exportable, used to sign, public halves as PEM.

Signatures are SHA-256 ECDSA in DER (``marshaling_algorithm=asn1``) for ``ecdsa-p256`` keys and
RSA-PSS with a digest-length salt for RSA keys: what :func:`aegis.signing.verify` checks.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from aegis.errors import AegisError, SecretNotFound, SecurityViolation
from aegis_secrets_vault.config import KEY_NAME
from aegis_secrets_vault.errors import SigningKeyError, VaultError
from aegis_secrets_vault.session import NO_ROUTE, VaultSession

#: Transit key types whose signatures aegis.signing.verify can check.
SIGNING_KEY_TYPES = ("ecdsa-p256", "rsa-2048", "rsa-3072", "rsa-4096")
DEFAULT_KEY_TYPE = "ecdsa-p256"


@dataclass(frozen=True)
class TransitKey:
    """A Transit key as ``transit/keys/<name>`` describes it."""

    name: str
    type: str
    latest_version: int
    exportable: bool
    public_key_pem: bytes


def check_key_name(key: str) -> str:
    if not isinstance(key, str) or not KEY_NAME.fullmatch(key):
        raise SigningKeyError(f"invalid signing key name {key!r}: a Transit key name may only contain letters, "
                              f"digits, '_', '.' and '-'")
    return key


class TransitKeys:
    """The signing keys under one Transit mount.

    A key is checked once before its first use and then remembered (Transit keys cannot change
    type, and cannot become non-exportable again): its type must make signatures Aegis can
    verify, and it must not be exportable (strict mode refuses such a key, permissive warns).
    """

    def __init__(self, session: VaultSession, mount: str, strict: bool, log: logging.Logger):
        self._session = session
        self._mount = mount
        self._strict = strict
        self._log = log
        self._checked: set[str] = set()
        self._checked_lock = threading.Lock()

    def describe(self, key: str) -> TransitKey:
        """The key's type, latest version and public key.

        :raises SecretNotFound: when there is no such key (with the command that creates it).
        :raises SigningKeyError: when the key's type cannot make Aegis signatures.
        """
        check_key_name(key)
        path = f"{self._mount}/keys/{key}"

        def missing(server_says: str) -> AegisError:
            if NO_ROUTE in server_says:
                return VaultError(f"Vault at {self._session.config.address} has no Transit engine mounted at "
                                  f"{self._mount}/; enable it (bao secrets enable -path={self._mount} transit) "
                                  f"or set transit_mount")
            return SecretNotFound(f"signing key {key!r} not found: Vault at {self._session.config.address} has no "
                                  f"Transit key {path}; create it with `aegis vault init-keys --key {key}` "
                                  f"(secrets backend vault)")

        data = self._session.request("read", path, lambda c: c.secrets.transit.read_key(key, mount_point=self._mount),
                                     missing=missing)["data"]
        key_type = data.get("type")
        if key_type not in SIGNING_KEY_TYPES:
            raise SigningKeyError(f"Transit key {path} is of type {key_type}; Aegis signatures need one of "
                                  f"{', '.join(SIGNING_KEY_TYPES)} (create a new key with `aegis vault init-keys "
                                  f"--key <name>` and configure that name)")
        latest = int(data["latest_version"])
        try:
            pem = data["keys"][str(latest)]["public_key"].encode()
            public_key = serialization.load_pem_public_key(pem)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise VaultError(f"Transit key {path} version {latest} has no usable public key ({exc})") from None
        return TransitKey(name=key, type=key_type, latest_version=latest, exportable=bool(data.get("exportable")),
                          public_key_pem=public_key.public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))

    def public_key(self, key: str) -> bytes:
        """PEM SubjectPublicKeyInfo of the key's latest version (the one :meth:`sign` uses)."""
        return self._check(self.describe(key)).public_key_pem

    def sign(self, key: str, data: bytes) -> bytes:
        """Sign ``data`` (Transit hashes it with SHA-256); the DER ECDSA or RSA-PSS signature."""
        check_key_name(key)
        if key not in self._checked:
            self._check(self.describe(key))
        path = f"{self._mount}/sign/{key}"
        response = self._session.request(
            "sign with", path,
            lambda c: c.secrets.transit.sign_data(
                key, hash_input=base64.b64encode(bytes(data)).decode("ascii"), hash_algorithm="sha2-256",
                marshaling_algorithm="asn1", signature_algorithm="pss", salt_length="hash",
                mount_point=self._mount))
        signature = str((response.get("data") or {}).get("signature", ""))
        prefix, _, rest = signature.partition(":")
        version, _, encoded = rest.partition(":")
        try:
            if prefix != "vault" or not version.startswith("v"):
                raise ValueError("not of the form vault:v<version>:<base64>")
            return base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise VaultError(f"Vault at {self._session.config.address} returned a malformed signature from {path}: "
                             f"{exc}") from None

    def _check(self, key: TransitKey) -> TransitKey:
        if key.exportable:
            problem = (f"Transit key {self._mount}/keys/{key.name} is exportable, so its private key can leave "
                       f"Vault; use a key created with exportable=false (`aegis vault init-keys --key <name>`)")
            if self._strict:
                raise SecurityViolation(problem)
            if key.name not in self._checked:
                self._log.warning("security mode permissive: %s", problem)
        with self._checked_lock:
            self._checked.add(key.name)
        return key

    def create(self, key: str, key_type: str = DEFAULT_KEY_TYPE) -> tuple[bool, TransitKey]:
        """Create the key (not exportable, no plaintext backup) unless it exists; ``(created, key)``.

        :raises SigningKeyError: when a key of that name exists with a type Aegis cannot sign with.
        """
        if key_type not in SIGNING_KEY_TYPES:
            raise SigningKeyError(f"key type {key_type!r} cannot make Aegis signatures; use one of "
                                  f"{', '.join(SIGNING_KEY_TYPES)}")
        try:
            return False, self.describe(key)
        except SecretNotFound:
            pass
        self._session.request("create", f"{self._mount}/keys/{check_key_name(key)}",
                              lambda c: c.secrets.transit.create_key(key, key_type=key_type, exportable=False,
                                                                     allow_plaintext_backup=False,
                                                                     mount_point=self._mount))
        return True, self.describe(key)
