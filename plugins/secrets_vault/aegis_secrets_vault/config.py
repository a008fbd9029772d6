"""The ``vault`` plugin's configuration; unset keys default to the standard ``VAULT_*`` environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

#: Transit key names: plain names, no ``/``, so a key name cannot reach another API path.
KEY_NAME = re.compile(r"[A-Za-z0-9_.-]+")

#: Config key → environment variable it defaults to, read when the config is validated.
ENVIRONMENT_DEFAULTS = {
    "address": "VAULT_ADDR",
    "token_file": "VAULT_TOKEN_FILE",
    "secret_path": "VAULT_SECRET_PATH",
    "verify_tls": "VAULT_CACERT",
}
REQUIRED = ("address", "token_file", "secret_path")


@dataclass(frozen=True)
class KvLocation:
    """A KV v2 secret: the engine's mount and the secret's path inside it."""

    mount: str
    path: str

    @property
    def api_path(self) -> str:
        """The path Vault's API and policies use: ``secret/data/aegis/keys``."""
        return f"{self.mount}/data/{self.path}"


def _segments(value: str, what: str) -> list[str]:
    parts = value.strip().strip("/").split("/")
    if not value.strip().strip("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{what} {value!r} is not a Vault path (empty, '.' or '..' segment)")
    return parts


def split_secret_path(secret_path: str, kv_mount: str | None = None) -> KvLocation:
    """``secret/data/aegis/keys`` or ``secret/aegis/keys`` → mount ``secret``, path ``aegis/keys``.

    Without ``kv_mount`` the mount is the first segment; a mount whose own path holds a ``/``
    (``kv/payments``) must be named with ``kv_mount``.
    """
    parts = _segments(secret_path, "secret_path")
    mount_parts = _segments(kv_mount, "kv_mount") if kv_mount is not None else parts[:1]
    if parts[:len(mount_parts)] != mount_parts:
        raise ValueError(f"secret_path {secret_path!r} is not inside kv_mount {kv_mount!r}")
    rest = parts[len(mount_parts):]
    if rest[:1] == ["metadata"]:
        raise ValueError(f"secret_path {secret_path!r} is a KV v2 metadata path; name the secret as "
                         f"{'/'.join(mount_parts)}/data/<path> or {'/'.join(mount_parts)}/<path>")
    if rest[:1] == ["data"]:
        rest = rest[1:]
    if not rest:
        raise ValueError(f"secret_path {secret_path!r} names the KV mount {'/'.join(mount_parts)!r} but no "
                         f"secret in it (e.g. {'/'.join(mount_parts)}/data/aegis/keys)")
    return KvLocation("/".join(mount_parts), "/".join(rest))


def is_loopback(host: str | None) -> bool:
    return host in ("localhost", "::1") or bool(host and re.fullmatch(r"127(\.\d{1,3}){3}", host))


class VaultConfig(BaseModel):
    """Where Vault is, which token file to use, where the secrets and signing keys live."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(description="Vault/OpenBao server URL, e.g. https://vault.internal:8200 "
                                     "(default: VAULT_ADDR)")
    token_file: Path = Field(description="file holding the Vault token, mode 0600 (default: VAULT_TOKEN_FILE); "
                                         "the token is only ever read from this file, never from VAULT_TOKEN")
    secret_path: str = Field(description="KV v2 secret whose keys are the Aegis secrets, as secret/data/aegis/keys "
                                         "or secret/aegis/keys (default: VAULT_SECRET_PATH)")
    kv_mount: str | None = Field(None, description="mount path of the KV v2 engine; derived from the first "
                                                   "segment of secret_path when not set (set it for a mount "
                                                   "whose path holds a '/')")
    transit_mount: str = Field("transit", pattern=r"^[A-Za-z0-9_./-]+$",
                               description="mount path of the Transit engine that holds the signing keys")
    verify_tls: bool | Path = Field(True, description="verify the server's TLS certificate: true, false "
                                                      "(refused in strict mode) or a CA bundle file "
                                                      "(default: VAULT_CACERT when set)")
    renew_before: float = Field(0.5, gt=0, lt=1, description="renew the token when less than this fraction of "
                                                             "its TTL remains")
    timeout: float = Field(5.0, gt=0, le=300, description="seconds to wait for each Vault request")
    self_test_key: str = Field("audit", pattern=f"^{KEY_NAME.pattern}$",
                               description="Transit key the self-test signs and verifies with")

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, variable in ENVIRONMENT_DEFAULTS.items():
            if data.get(key) is None and os.environ.get(variable):
                data[key] = os.environ[variable]
        missing = [f"{key} (or {ENVIRONMENT_DEFAULTS[key]})" for key in REQUIRED if data.get(key) in (None, "")]
        if missing:
            raise ValueError(f"not set: {', '.join(missing)}; set them in the secrets section or the environment")
        return data

    @field_validator("address")
    @classmethod
    def _is_url(cls, value: str) -> str:
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"address {value!r} is not an http(s) URL like https://vault.internal:8200")
        return value.strip().rstrip("/")

    @field_validator("transit_mount", "kv_mount")
    @classmethod
    def _is_mount(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else "/".join(_segments(value, info.field_name or "mount"))

    @model_validator(mode="after")
    def _paths_split(self) -> VaultConfig:
        split_secret_path(self.secret_path, self.kv_mount)
        return self

    @property
    def kv(self) -> KvLocation:
        """The KV v2 secret the Aegis secrets are keys of."""
        return split_secret_path(self.secret_path, self.kv_mount)

    def transport_problems(self) -> list[str]:
        """Reasons the token could travel unprotected (plain HTTP off this host, unverified TLS)."""
        problems = []
        url = urlsplit(self.address)
        if url.scheme == "http" and not is_loopback(url.hostname):
            problems.append(f"address {self.address} is plain HTTP to another host, so the Vault token and "
                            f"secrets cross the network unencrypted; use https://")
        if self.verify_tls is False:
            problems.append("verify_tls is false, so any server can pose as Vault and receive the token; "
                            "give the CA bundle file instead")
        return problems
