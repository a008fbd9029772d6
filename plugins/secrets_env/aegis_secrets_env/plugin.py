"""The ``env`` secrets plugin: environment-variable secrets and software signing keys, for development."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field

from aegis.config import section_path
from aegis.context import Context
from aegis.errors import SecretNotFound, SecurityViolation
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.signing import fingerprint as _fingerprint
from aegis.signing import verify
from aegis_secrets_env.environment import read_secret
from aegis_secrets_env.keys import KEY_NAME, generate_key, key_path, load_private_key, public_key_pem

PLUGIN = section_path("secrets", None, "env")

STRICT_REFUSAL = (
    "the 'env' secrets backend reads secrets from environment variables and keeps signing keys in software, "
    "which security mode 'strict' forbids. Use a hardware or vault backend (AEGIS_SECRETS_MODE=hsm or "
    "AEGIS_SECRETS_MODE=vault), or, for development only, set AEGIS_SECURITY_MODE=permissive")

_development_warning_lock = threading.Lock()
_development_warning_given = False


def _warn_development_mode(log: logging.Logger, config: EnvSecrets.Config) -> None:
    """Log the permissive-mode warning once per process, however many times the plugin starts."""
    global _development_warning_given
    with _development_warning_lock:
        if _development_warning_given:
            return
        _development_warning_given = True
    log.warning("security mode permissive: secrets come from environment variables (%s*) and signing keys are "
                "software keys in %s. Development only: never run production like this "
                "(use AEGIS_SECRETS_MODE=hsm or vault with AEGIS_SECURITY_MODE=strict)",
                config.prefix, config.key_dir)




class EnvSecrets:
    """Secrets from ``<prefix><NAME>`` environment variables; ECDSA P-256 keys from ``<key_dir>/<key>.pem``.

    Refused in strict security mode (the default); permitted with a warning in permissive mode.
    """

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")

        prefix: str = Field("AEGIS_SECRET_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                            description="environment variable prefix: secret db_password is read from "
                                        "AEGIS_SECRET_DB_PASSWORD")
        key_dir: Path = Field(Path("var/keys"),
                              description="directory of software signing keys, one <key>.pem per key name "
                                          "(PKCS#8 PEM, ECDSA P-256, mode 0600); relative to the working directory")
        generate_missing_keys: bool = Field(True, description="create a development ECDSA P-256 key (with a "
                                                              "warning) when a key's file is missing")
        self_test_key: str = Field("audit", pattern=f"^{KEY_NAME.pattern}$",
                                   description="signing key the self-test signs and verifies with")

    capabilities: ClassVar[dict[str, bool]] = {"non_extractable_keys": False, "signing": True}

    def __init__(self, config: Config):
        self.config = config
        self._log = logging.getLogger("aegis.secrets.env")
        self._keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._keys_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        self._refuse_in_strict_mode(context)
        self._log = context.log.getChild("secrets.env")
        _warn_development_mode(self._log, self.config)

    @hookimpl
    def aegis_shutdown(self, context: Context) -> None:
        with self._keys_lock:
            self._keys.clear()

    @hookimpl
    def aegis_self_test(self, context: Context) -> list[SelfTestResult]:
        key = self.config.self_test_key
        check = f"sign/verify round trip with key {key!r}"
        try:
            data = b"aegis self-test " + os.urandom(16)
            signature = self.aegis_secrets_sign(context, data, key)
            pem = self.aegis_secrets_public_key(context, key)
            ok = verify(pem, data, signature) and not verify(pem, data + b"!", signature)
            detail = (f"ECDSA P-256/SHA-256 software key {key_path(self.config.key_dir, key)}, public key "
                      f"{_fingerprint(pem)}" if ok else "the signature did not verify with the public key")
        except Exception as exc:  # a self-test reports every failure instead of raising
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return [SelfTestResult(plugin=PLUGIN, check=check, ok=ok, detail=detail)]

    # -- secrets -----------------------------------------------------------

    @hookimpl
    def aegis_secrets_resolve(self, context: Context, name: str) -> str:
        self._refuse_in_strict_mode(context)
        return read_secret(self.config.prefix, name)

    @hookimpl
    def aegis_secrets_sign(self, context: Context, data: bytes, key: str) -> bytes:
        self._refuse_in_strict_mode(context)
        return self._private_key(key).sign(bytes(data), ec.ECDSA(hashes.SHA256()))

    @hookimpl
    def aegis_secrets_public_key(self, context: Context, key: str) -> bytes:
        self._refuse_in_strict_mode(context)
        return public_key_pem(self._private_key(key))

    # -- keys --------------------------------------------------------------

    @staticmethod
    def _refuse_in_strict_mode(context: Context) -> None:
        # Startup already refuses; the hooks check again so no path around startup reads a secret.
        if context.security_mode != "permissive":
            raise SecurityViolation(STRICT_REFUSAL)

    def _private_key(self, key: str) -> ec.EllipticCurvePrivateKey:
        path = key_path(self.config.key_dir, key)
        with self._keys_lock:
            private_key = self._keys.get(key)
            if private_key is None:
                private_key = self._keys[key] = self._load_or_generate(key, path)
            return private_key

    def _load_or_generate(self, key: str, path: Path) -> ec.EllipticCurvePrivateKey:
        try:
            return load_private_key(path)
        except FileNotFoundError:
            if not self.config.generate_missing_keys:
                raise SecretNotFound(
                    f"signing key {key!r} not found: {path} does not exist (secrets backend env); create it "
                    f"with aegis_secrets_env.generate_key or set generate_missing_keys: true") from None
        try:
            private_key = generate_key(path)
        except FileExistsError:  # another process created it meanwhile: use theirs
            return load_private_key(path)
        self._log.warning("generated DEVELOPMENT signing key %r at %s (ECDSA P-256 software key, public key %s): "
                          "not for production, use an HSM or Vault backend there",
                          key, path, _fingerprint(public_key_pem(private_key)))
        return private_key
