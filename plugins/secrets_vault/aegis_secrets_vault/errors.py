"""What can go wrong talking to Vault, as operator errors that name the server and path, never a token or value."""

from __future__ import annotations

from aegis.errors import AegisError


class VaultError(AegisError):
    """Vault refused or failed a request (the message names the address and the API path)."""


class VaultUnavailable(VaultError):
    """Vault cannot be reached, or it is sealed."""


class VaultTokenError(VaultError):
    """The token file is missing or unusable, or Vault says the token is invalid, expired or revoked."""


class VaultPermissionDenied(VaultError):
    """The token is valid but none of its policies grants the capability on the path."""


class SigningKeyError(AegisError):
    """A Transit key name or key cannot be used for Aegis signatures (bad name, unsupported type)."""
