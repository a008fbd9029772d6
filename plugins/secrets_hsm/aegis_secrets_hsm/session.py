"""One logged-in PKCS#11 session on the token selected by label, re-opened once after a session or token loss."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Mechanism, Session, TokenFlag
from pkcs11 import exceptions as p11

from aegis_secrets_hsm.errors import TokenRef, reason
from aegis_secrets_hsm.pin import read_pin

T = TypeVar("T")

#: Failures after which a fresh session (found by label, logged in again) may succeed.
LOSSES: tuple[type[p11.PKCS11Error], ...] = (
    p11.SessionHandleInvalid, p11.SessionClosed, p11.DeviceRemoved, p11.DeviceError,
    p11.TokenNotPresent, p11.TokenNotRecognised, p11.UserNotLoggedIn,
)


@dataclass(frozen=True)
class TokenInfo:
    """What the token says about itself (for logs and the self-test)."""

    label: str
    manufacturer: str
    model: str
    serial: str

    @property
    def software(self) -> bool:
        """SoftHSM2: a software token for development and tests, not an HSM."""
        return "softhsm" in f"{self.manufacturer} {self.model}".lower()


def find_objects(session: Session, attrs: dict[pkcs11.Attribute, Any]) -> list[pkcs11.Object]:
    """Every object matching ``attrs``, the session checked first.

    ``C_GenerateRandom`` is the cheapest call bound to the session handle and fails cleanly
    when the session is gone; python-pkcs11's search would instead raise a second time from
    a finaliser, outside any ``try``.
    """
    session.generate_random(64)
    return list(session.get_objects(attrs))


class TokenSession:
    """A read/write user session on the token labelled ``token_label``, guarded by a lock.

    PKCS#11 sessions are not thread-safe: :meth:`run` holds the lock for the whole
    operation. When the session or token is lost, :meth:`run` re-opens it once (finding
    the token by label again and reading the PIN file again) and retries the operation.
    Every PKCS#11 exception leaves as an :class:`~aegis_secrets_hsm.errors.HsmFailure`.

    :param on_reopen: called (under the lock) before the retry, to drop handles of the old session.
    """

    def __init__(self, library: Path, token_label: str, pin_file: Path, *, strict: bool,
                 log: logging.Logger, on_reopen: Callable[[], None] | None = None):
        self.ref = TokenRef(token_label, Path(library))
        self.pin_file = Path(pin_file)
        self.strict = strict
        self._log = log
        self._on_reopen = on_reopen
        self._lock = threading.RLock()
        self._session: Session | None = None
        self._mechanisms: frozenset[Mechanism | int] = frozenset()
        self.info: TokenInfo | None = None

    # -- opening -------------------------------------------------------------

    def open(self) -> TokenInfo:
        """Open and log in (if not open yet); returns what the token says about itself."""
        with self._lock:
            if self._session is None:
                self._open()
            assert self.info is not None
            return self.info

    def _open(self) -> None:
        token = self._find_token(self._load_library())
        pin = read_pin(self.pin_file, self.ref, strict=self.strict, log=self._log)
        try:
            try:
                session = token.open(rw=True, user_pin=pin)
            except p11.UserAlreadyLoggedIn:
                # PKCS#11 logins belong to the process: another session of ours is logged in already.
                session = token.open(rw=True)
            mechanisms = frozenset(token.slot.get_mechanisms())
            info = TokenInfo(token.label, token.manufacturer_id, token.model, token.serial.hex())
        except p11.PinIncorrect:
            raise self.ref.failure(f"Wrong PIN: the token refused the PIN read from {self.pin_file}") from None
        except p11.PKCS11Error as exc:
            raise self.ref.failure(f"Cannot open a session: {reason(exc)}") from exc
        finally:
            del pin  # keep it out of the frame locals any traceback renderer might print
        self._session, self._mechanisms, self.info = session, mechanisms, info

    def _load_library(self) -> Any:
        path = self.ref.library
        if not path.is_file():
            raise self.ref.failure(f"PKCS#11 library not loadable: {path} does not exist",
                                   hint="install the HSM vendor's PKCS#11 module or set AEGIS_HSM_LIB")
        try:
            return pkcs11.lib(str(path))
        except p11.PKCS11Error as exc:
            if type(exc) is p11.PKCS11Error:  # the dynamic loader's own message: path and reason
                raise self.ref.failure(f"PKCS#11 library not loadable: {exc}") from None
            raise self.ref.failure(f"PKCS#11 library failed to initialise: {reason(exc)}",
                                   hint="for SoftHSM2 check SOFTHSM2_CONF and its directories.tokendir") from exc

    def _find_token(self, lib: Any) -> pkcs11.Token:
        try:
            return lib.get_token(token_label=self.ref.label)
        except p11.NoSuchToken:
            present = ", ".join(repr(t.label) for t in lib.get_tokens()
                                if t.flags & TokenFlag.TOKEN_INITIALIZED) or "none"
            raise self.ref.failure("Token not found", hint=f"tokens present: {present}") from None
        except p11.MultipleTokensReturned:
            raise self.ref.failure("Token label is ambiguous: several tokens carry it",
                                   hint="give each token a distinct label") from None
        except p11.PKCS11Error as exc:
            raise self.ref.failure(f"Cannot list the library's tokens: {reason(exc)}") from exc

    # -- using ---------------------------------------------------------------

    def run(self, operation: Callable[[Session], T], action: str) -> T:
        """``operation(session)`` under the lock; re-opens once after a session or token loss.

        :param action: what the operation does, for error messages (``signing with key 'audit'``).
        """
        with self._lock:
            for attempt in (1, 2):
                if self._session is None:
                    self._open()
                assert self._session is not None
                try:
                    return operation(self._session)
                except LOSSES as exc:
                    self._discard()
                    if attempt == 2:
                        raise self.ref.failure(f"{action} failed again after re-opening the session: "
                                               f"{reason(exc)}") from exc
                    self._log.warning("HSM session unusable (%s) while %s; re-opening it (label %s, library %s)",
                                      reason(exc), action, self.ref.label, self.ref.library)
                    if self._on_reopen is not None:
                        self._on_reopen()
                except p11.PKCS11Error as exc:
                    raise self.ref.failure(f"{action} failed: {reason(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def mechanisms(self) -> frozenset[Mechanism | int]:
        """The mechanisms the token offers (as of the last session opened)."""
        return self._mechanisms

    def close(self) -> None:
        """Log out and close the session; a session that is already gone is no error."""
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except p11.PKCS11Error:
                pass  # already closed or the token is gone: nothing left to release
