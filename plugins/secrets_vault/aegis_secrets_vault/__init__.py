"""Aegis ``vault`` secrets plugin: KV v2 secrets and Transit signing keys on HashiCorp Vault or OpenBao."""

from aegis_secrets_vault.errors import (
    SigningKeyError,
    VaultError,
    VaultPermissionDenied,
    VaultTokenError,
    VaultUnavailable,
)
from aegis_secrets_vault.plugin import VaultSecrets

__all__ = ["SigningKeyError", "VaultError", "VaultPermissionDenied", "VaultSecrets", "VaultTokenError",
           "VaultUnavailable"]
