"""The ``hsm`` secrets plugin: signing keys inside a PKCS#11 token, secrets stored as its data objects."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import ClassVar

from pkcs11 import Session
from pydantic import BaseModel, ConfigDict, Field

from aegis.config import section_path
from aegis.context import Context
from aegis.errors import SecurityViolation
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.signing import fingerprint, verify
from aegis_secrets_hsm.data_objects import read_secret
from aegis_secrets_hsm.keys import KEY_NAME, KeyKind, SigningKey, find_signing_key
from aegis_secrets_hsm.session import TokenSession

PLUGIN = section_path("secrets", None, "hsm")
DEFAULT_LIBRARY = Path("/usr/lib/softhsm/libsofthsm2.so")
DEFAULT_TOKEN_LABEL = "AegisToken"
DEFAULT_PIN_FILE = Path("/run/secrets/hsm_pin")


def _library_from_environment() -> Path:
    return Path(os.environ.get("AEGIS_HSM_LIB") or DEFAULT_LIBRARY)


def _token_label_from_environment() -> str:
    return os.environ.get("AEGIS_HSM_TOKEN") or DEFAULT_TOKEN_LABEL


def _pin_file_from_environment() -> Path:
    return Path(os.environ.get("AEGIS_HSM_PIN_FILE") or DEFAULT_PIN_FILE)


class HsmSecrets:
    """Signing keys generated inside a PKCS#11 token (sensitive, non-extractable), secrets as its data objects.

    The token is selected by label, never by slot number, and logged in with the user PIN
    from a file. One session per plugin, used under a lock and re-opened once after a
    session or token loss.
    """

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")

        library: Path = Field(default_factory=_library_from_environment,
                              description="the HSM vendor's PKCS#11 module; default: $AEGIS_HSM_LIB, else "
                                          f"{DEFAULT_LIBRARY} (SoftHSM2, development and tests only)")
        token_label: str = Field(default_factory=_token_label_from_environment, min_length=1, max_length=32,
                                 description="label of the token to use (tokens are selected by label, never "
                                             f"by slot number); default: $AEGIS_HSM_TOKEN, else {DEFAULT_TOKEN_LABEL}")
        pin_file: Path = Field(default_factory=_pin_file_from_environment,
                               description="file holding the token's user PIN (the PIN is only ever read from a "
                                           "file; strict mode requires mode 0600 or 0400); default: "
                                           f"$AEGIS_HSM_PIN_FILE, else {DEFAULT_PIN_FILE}")
        key_type: KeyKind = Field("ec-p256", description="type of the signing keys: ec-p256 (ECDSA P-256 over "
                                                         "SHA-256) or rsa-2048 (RSA-PSS, SHA-256, MGF1-SHA256, "
                                                         "32-byte salt); a key of another type is refused")
        secret_label_prefix: str = Field("aegis-secret:", min_length=1,
                                         description="secret NAME is the data object labelled <prefix>NAME")
        self_test_key: str = Field("audit", pattern=f"^{KEY_NAME.pattern}$",
                                   description="signing key the self-test signs and verifies with")

    capabilities: ClassVar[dict[str, bool]] = {"non_extractable_keys": True, "signing": True}

    def __init__(self, config: Config):
        self.config = config
        self._log = logging.getLogger("aegis.secrets.hsm")
        self._token: TokenSession | None = None
        self._token_lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}  # used under the token session's lock only

    # -- lifecycle ---------------------------------------------------------

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        self._log = context.log.getChild("secrets.hsm")
        token = self._session(context)
        info = token.open()
        self._log.info("HSM session open: token %s (%s %s, serial %s) through %s", info.label, info.manufacturer,
                       info.model, info.serial, self.config.library)
        if info.software:
            self._log.warning("token %s is SoftHSM2, a software token: its keys are files on this machine, not in "
                              "an HSM. Development and tests only", info.label)

    @hookimpl
    def aegis_shutdown(self, context: Context) -> None:
        if self._token is not None:
            self._token.close()
        self._keys.clear()

    @hookimpl
    def aegis_self_test(self, context: Context) -> list[SelfTestResult]:
        token = self._session(context)
        results = []
        try:
            info = token.open()
            results.append(SelfTestResult(PLUGIN, "token reachable", True,
                                          f"token {info.label} ({info.manufacturer} {info.model}, serial "
                                          f"{info.serial}) through {self.config.library}, logged in"))
        except Exception as exc:  # a self-test reports every failure instead of raising
            return [SelfTestResult(PLUGIN, "token reachable", False, f"{type(exc).__name__}: {exc}")]
        name = self.config.self_test_key
        try:
            key = token.run(lambda session: self._signing_key(token, session, name), f"loading key {name!r}")
            data = b"aegis self-test " + os.urandom(16)
            signature = self.aegis_secrets_sign(context, data, name)
            ok = verify(key.public_pem, data, signature) and not verify(key.public_pem, data + b"!", signature)
            detail = (f"{key.algorithm}, public key {fingerprint(key.public_pem)}" if ok
                      else "the signature did not verify with the public key")
            results.append(SelfTestResult(PLUGIN, f"sign/verify round trip with key {name!r}", ok, detail))
            results.append(SelfTestResult(
                PLUGIN, f"key {name!r} cannot leave the token", key.protected,
                f"CKA_SENSITIVE={key.sensitive}, CKA_EXTRACTABLE={key.extractable}"))
        except Exception as exc:  # a self-test reports every failure instead of raising
            results.append(SelfTestResult(PLUGIN, f"sign/verify round trip with key {name!r}", False,
                                          f"{type(exc).__name__}: {exc}"))
        return results

    # -- secrets -----------------------------------------------------------

    @hookimpl
    def aegis_secrets_resolve(self, context: Context, name: str) -> str:
        token = self._session(context)
        stored = token.run(lambda session: read_secret(session, token.ref, self.config.secret_label_prefix, name),
                           f"reading secret {name!r}")
        if not stored.private:
            problem = (f"secret {name!r} is a public data object {stored.label!r} in token {token.ref.label} "
                       f"(CKA_PRIVATE=False): any session can read it without the PIN")
            if context.strict:
                raise SecurityViolation(f"{problem}; strict mode refuses it. Store it again as a private object: "
                                        f"`aegis hsm put-secret {name} --replace --from-file FILE`")
            self._log.warning("%s. Security mode permissive allows this; strict mode refuses it", problem)
        return stored.value

    @hookimpl
    def aegis_secrets_sign(self, context: Context, data: bytes, key: str) -> bytes:
        token = self._session(context)
        return token.run(lambda session: self._signing_key(token, session, key).sign(data),
                         f"signing with key {key!r}")

    @hookimpl
    def aegis_secrets_public_key(self, context: Context, key: str) -> bytes:
        token = self._session(context)
        return token.run(lambda session: self._signing_key(token, session, key).public_pem,
                         f"exporting the public key of {key!r}")

    # -- token -------------------------------------------------------------

    def _session(self, context: Context) -> TokenSession:
        with self._token_lock:
            if self._token is None:
                self._token = TokenSession(self.config.library, self.config.token_label, self.config.pin_file,
                                           strict=context.strict, log=self._log, on_reopen=self._keys.clear)
            return self._token

    def _signing_key(self, token: TokenSession, session: Session, name: str) -> SigningKey:
        """The key labelled ``name``, loaded once per session (handles die with their session)."""
        key = self._keys.get(name)
        if key is None:
            key = find_signing_key(session, token.ref, name, token.mechanisms, self.config.key_type)
            if not key.protected:
                problem = (f"signing key {name!r} in token {token.ref.label} can be read out of the token "
                           f"(CKA_SENSITIVE={key.sensitive}, CKA_EXTRACTABLE={key.extractable})")
                if token.strict:
                    raise SecurityViolation(f"{problem}; strict mode signs only with keys generated inside the token "
                                            f"as sensitive and non-extractable: `aegis hsm init-keys --key {name} "
                                            f"--rotate`")
                self._log.warning("%s. Security mode permissive allows this; strict mode refuses it", problem)
            self._keys[name] = key
        return key
