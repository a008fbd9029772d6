"""The ``vault`` secrets plugin: KV v2 secrets, Transit signing keys, a renewed token from a file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import ClassVar

from aegis.config import section_path
from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.signing import fingerprint, verify
from aegis_secrets_vault.config import VaultConfig
from aegis_secrets_vault.errors import VaultError
from aegis_secrets_vault.kv import read_secret, secret_versions
from aegis_secrets_vault.session import VaultSession
from aegis_secrets_vault.transit import TransitKeys

PLUGIN = section_path("secrets", None, "vault")




class VaultSecrets:
    """Secrets are keys of one KV v2 secret (``name`` or ``name@version``); signing keys are Transit keys,
    which never leave Vault. The token is read from ``token_file`` only and renewed in the background.

    Allowed in both security modes. Strict mode refuses a token file that group or others can
    read, plain HTTP to another host and ``verify_tls: false``; permissive mode warns about them.
    """

    Config = VaultConfig
    capabilities: ClassVar[dict[str, bool]] = {"non_extractable_keys": True, "signing": True}

    def __init__(self, config: VaultConfig):
        self.config = config
        self._log = logging.getLogger("aegis.secrets.vault")
        self._session: VaultSession | None = None
        self._keys: TransitKeys | None = None

    # -- lifecycle ---------------------------------------------------------

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        self._log = context.log.getChild("secrets.vault")
        session = VaultSession(self.config, strict=context.strict, log=self._log)
        token = session.open()
        self._session = session
        self._keys = TransitKeys(session, self.config.transit_mount, strict=context.strict, log=self._log)
        self._log.info("connected to Vault at %s: secrets in %s, signing keys under %s/, token %s",
                       self.config.address, self.config.kv.api_path, self.config.transit_mount, token.describe())

    @hookimpl
    def aegis_shutdown(self, context: Context) -> None:
        session, self._session, self._keys = self._session, None, None
        if session is not None:
            session.close()

    @hookimpl
    def aegis_self_test(self, context: Context) -> list[SelfTestResult]:
        return [self._check("token valid", self._check_token),
                self._check(f"secrets readable at {self.config.kv.api_path}", self._check_secrets),
                self._check(f"sign/verify round trip with Transit key {self.config.self_test_key!r}",
                            self._check_signing)]

    # -- secrets -----------------------------------------------------------

    @hookimpl
    def aegis_secrets_resolve(self, context: Context, name: str) -> str:
        return read_secret(self._open_session(), self.config.kv, name)

    @hookimpl
    def aegis_secrets_sign(self, context: Context, data: bytes, key: str) -> bytes:
        return self._transit().sign(key, data)

    @hookimpl
    def aegis_secrets_public_key(self, context: Context, key: str) -> bytes:
        return self._transit().public_key(key)

    # -- internals -----------------------------------------------------------

    @property
    def session(self) -> VaultSession | None:
        """The open Vault session (``None`` before startup and after shutdown)."""
        return self._session

    def _open_session(self) -> VaultSession:
        if self._session is None:
            raise VaultError(f"the vault secrets backend for {self.config.address} is not started (or was shut down)")
        return self._session

    def _transit(self) -> TransitKeys:
        self._open_session()
        assert self._keys is not None
        return self._keys

    @staticmethod
    def _check(check: str, run: Callable[[], tuple[bool, str]]) -> SelfTestResult:
        try:
            ok, detail = run()
        except Exception as exc:  # a self-test reports every failure instead of raising
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return SelfTestResult(plugin=PLUGIN, check=check, ok=ok, detail=detail)

    def _check_token(self) -> tuple[bool, str]:
        token = self._open_session().lookup()
        return True, f"Vault at {self.config.address}: token {token.describe()}"

    def _check_secrets(self) -> tuple[bool, str]:
        version, keys = secret_versions(self._open_session(), self.config.kv)
        return True, f"version {version}, {keys} key(s)"

    def _check_signing(self) -> tuple[bool, str]:
        key = self.config.self_test_key
        data = b"aegis self-test " + os.urandom(16)
        signature = self._transit().sign(key, data)
        pem = self._transit().public_key(key)
        if not (verify(pem, data, signature) and not verify(pem, data + b"!", signature)):
            return False, "the signature did not verify with the key's public key"
        return True, f"Transit key {self.config.transit_mount}/keys/{key}, public key {fingerprint(pem)}"
