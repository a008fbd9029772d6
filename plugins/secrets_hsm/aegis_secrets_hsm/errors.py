"""Errors of the hsm backend: each says what failed, on which token (by label) and through which library."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pkcs11 import exceptions as p11

from aegis.errors import AegisError


class HsmFailure(AegisError):
    """The token, its library, the PIN or a mechanism failed: ``HSM Failure: <what> (label X, library Y)``.

    Messages never carry the PIN or a secret's value: PKCS#11 exceptions are described by
    their type (:func:`reason`), never by their text.
    """

    def __init__(self, what: str, token_label: str, library: Path | str, hint: str = ""):
        self.what = what
        self.token_label = token_label
        self.library = str(library)
        self.hint = hint
        super().__init__(what)

    def __str__(self) -> str:
        text = f"HSM Failure: {self.what} (label {self.token_label}, library {self.library})"
        return f"{text}; {self.hint}" if self.hint else text


class SigningKeyError(AegisError):
    """A signing key name is invalid, a key exists where a new one would go, or a key has the wrong type."""


class SecretStoreError(AegisError):
    """A secret cannot be stored: its name is invalid, its value empty or not text, or it exists already."""


@dataclass(frozen=True)
class TokenRef:
    """Where an error happened: the token's label and the PKCS#11 library it was reached through."""

    label: str
    library: Path

    def failure(self, what: str, hint: str = "") -> HsmFailure:
        return HsmFailure(what, self.label, self.library, hint)


#: PKCS#11 return values in words. Anything else is reported by its exception name (CKR_ code).
_REASONS: dict[type[p11.PKCS11Error], str] = {
    p11.PinIncorrect: "wrong PIN",
    p11.PinLocked: "PIN locked after too many wrong PINs (the security officer must unlock it)",
    p11.PinExpired: "PIN expired (set a new one)",
    p11.PinLenRange: "the PIN has a length the token does not accept",
    p11.UserPinNotInitialized: "the token's user PIN is not initialised",
    p11.MechanismInvalid: "mechanism missing (the token does not offer it)",
    p11.MechanismParamInvalid: "mechanism parameters refused by the token",
    p11.FunctionNotSupported: "function not supported by the library",
    p11.SessionHandleInvalid: "session lost",
    p11.SessionClosed: "session closed",
    p11.DeviceRemoved: "token removed",
    p11.TokenNotPresent: "token not present",
    p11.TokenNotRecognised: "token not recognised",
    p11.DeviceError: "device error",
    p11.DeviceMemory: "token out of memory",
    p11.UserNotLoggedIn: "not logged in",
    p11.TokenWriteProtected: "token is write-protected",
    p11.AttributeSensitive: "refused: the attribute is sensitive",
    p11.KeyUnextractable: "refused: the key is not extractable",
    p11.AttributeReadOnly: "refused: the attribute is read-only",
    p11.KeyHandleInvalid: "key handle invalid (the key was deleted meanwhile)",
    p11.KeyTypeInconsistent: "the key's type does not fit the mechanism",
    p11.TemplateIncomplete: "the token needs more attributes in the template",
    p11.TemplateInconsistent: "the template's attributes contradict each other",
}


def reason(exc: p11.PKCS11Error) -> str:
    """A PKCS#11 failure in words, from its type only (exception texts may quote search templates)."""
    for cls in type(exc).__mro__:
        if cls in _REASONS:
            return _REASONS[cls]
    return type(exc).__name__
