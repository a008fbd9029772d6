"""Aegis secrets as keys of one KV v2 secret: ``api_key`` reads the latest version, ``api_key@3`` version 3."""

from __future__ import annotations

import re

from aegis.errors import AegisError, SecretNotFound
from aegis_secrets_vault.config import KvLocation
from aegis_secrets_vault.errors import VaultError
from aegis_secrets_vault.session import NO_ROUTE, VaultSession

#: ``name@version``: a trailing ``@`` and a positive version number pins the KV v2 version.
VERSIONED = re.compile(r"(?P<key>.+)@(?P<version>[1-9][0-9]*)")


def parse_reference(name: str) -> tuple[str, int | None]:
    """``api_key@3`` → ``("api_key", 3)``; ``api_key`` → ``("api_key", None)`` (the latest version)."""
    match = VERSIONED.fullmatch(name)
    return (match["key"], int(match["version"])) if match else (name, None)


def read_secret(session: VaultSession, location: KvLocation, name: str) -> str:
    """The string under key ``name`` (or ``name@version``) of the KV v2 secret at ``location``.

    :raises SecretNotFound: when the secret, the version or the key does not exist; the message
        names the path, the version and the key, never a value.
    """
    if not isinstance(name, str) or not name:
        raise SecretNotFound(f"secret name {name!r} is empty (secrets backend vault, {location.api_path})")
    key, version = parse_reference(name)
    which = f"version {version}" if version is not None else "the latest version"

    def missing(server_says: str) -> AegisError:
        if NO_ROUTE in server_says:
            return VaultError(f"Vault at {session.config.address} has no KV v2 engine mounted at {location.mount}/ "
                              f"(secret_path {location.api_path}); check secret_path / kv_mount")
        gone = f"has no version {version} (or it was deleted or destroyed)" if version is not None else \
            "does not exist (or its latest version was deleted)"
        return SecretNotFound(f"secret {name!r} not found: the KV v2 secret {location.api_path} {gone} "
                              f"(secrets backend vault, {session.config.address})")

    response = session.request(
        "read" if version is None else f"read version {version} of", location.api_path,
        lambda client: client.secrets.kv.v2.read_secret_version(
            path=location.path, version=version, mount_point=location.mount, raise_on_deleted_version=True),
        missing=missing)
    data = ((response or {}).get("data") or {}).get("data") or {}
    if key not in data:
        raise SecretNotFound(f"secret {name!r} not found: {which} of the KV v2 secret {location.api_path} has no "
                             f"key {key!r} (secrets backend vault, {session.config.address})")
    value = data[key]
    if not isinstance(value, str):
        raise VaultError(f"secret {name!r} in {which} of the KV v2 secret {location.api_path} is a JSON "
                         f"{type(value).__name__}, not a string; store it as a string")
    if not value:
        raise SecretNotFound(f"secret {name!r} not found: it is empty in {which} of the KV v2 secret "
                             f"{location.api_path} (secrets backend vault, {session.config.address})")
    return value


def secret_versions(session: VaultSession, location: KvLocation) -> tuple[int, int]:
    """The latest version of the KV v2 secret at ``location`` and how many keys it holds (no values)."""
    response = session.request(
        "read", location.api_path,
        lambda client: client.secrets.kv.v2.read_secret_version(
            path=location.path, mount_point=location.mount, raise_on_deleted_version=True))
    data = (response or {}).get("data") or {}
    return int((data.get("metadata") or {}).get("version") or 0), len(data.get("data") or {})
