"""Aegis ``env`` secrets plugin: secrets from environment variables and software signing keys (development)."""

from aegis_secrets_env.keys import generate_key
from aegis_secrets_env.plugin import EnvSecrets

__all__ = ["EnvSecrets", "generate_key"]
