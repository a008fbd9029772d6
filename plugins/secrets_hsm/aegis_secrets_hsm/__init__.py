"""Aegis ``hsm`` secrets plugin: signing keys inside a PKCS#11 token, secrets stored as its data objects."""

from aegis_secrets_hsm.errors import HsmFailure, SecretStoreError, SigningKeyError
from aegis_secrets_hsm.plugin import HsmSecrets

__all__ = ["HsmFailure", "HsmSecrets", "SecretStoreError", "SigningKeyError"]
