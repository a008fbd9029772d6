"""Secrets taken from environment variables: a secret's name maps to one variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from aegis.errors import SecretNotFound


def variable_name(prefix: str, name: str) -> str:
    """``db_password`` → ``AEGIS_SECRET_DB_PASSWORD`` (non-alphanumerics become ``_``)."""
    return prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def read_secret(prefix: str, name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of secret ``name`` from the environment; unset or empty is :class:`SecretNotFound`."""
    if not name:
        raise SecretNotFound("secret name is empty (secrets backend env)")
    variable = variable_name(prefix, name)
    value = (os.environ if environ is None else environ).get(variable)
    if value is None:
        raise SecretNotFound(f"secret {name!r} not found: environment variable {variable} is not set "
                             f"(secrets backend env)")
    if value == "":
        raise SecretNotFound(f"secret {name!r} not found: environment variable {variable} is set but empty "
                             f"(secrets backend env)")
    return value
