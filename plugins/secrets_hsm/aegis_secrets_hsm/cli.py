"""``aegis hsm``: generate signing keys inside the token, list its objects, export public keys, store secrets.

The token comes from the operator guide's environment variables (``AEGIS_HSM_LIB``,
``AEGIS_HSM_TOKEN``, ``AEGIS_HSM_PIN_FILE``) with the plugin's defaults; the PIN file rule
follows ``AEGIS_SECURITY_MODE`` (``strict`` unless set to ``permissive``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

import click
from pydantic import ValidationError

from aegis.config import format_errors
from aegis.errors import AegisError, ConfigError
from aegis.signing import fingerprint
from aegis_secrets_hsm.data_objects import secret_names, store_secret
from aegis_secrets_hsm.errors import SecretStoreError, SigningKeyError
from aegis_secrets_hsm.keys import (
    KEY_KINDS,
    KeyKind,
    check_key_name,
    find_signing_key,
    generate_signing_key,
    key_exists,
    rotate_signing_key,
    signing_key_names,
)
from aegis_secrets_hsm.plugin import HsmSecrets
from aegis_secrets_hsm.session import TokenSession

MAX_SECRET_BYTES = 64 * 1024


def _config() -> HsmSecrets.Config:
    try:
        return HsmSecrets.Config()
    except ValidationError as exc:
        raise ConfigError(format_errors(exc), source="environment (AEGIS_HSM_*)") from None


@contextmanager
def _token() -> Iterator[tuple[HsmSecrets.Config, TokenSession]]:
    config = _config()
    mode = os.environ.get("AEGIS_SECURITY_MODE") or "strict"
    if mode not in ("strict", "permissive"):
        raise ConfigError([f"AEGIS_SECURITY_MODE: must be strict or permissive, not {mode!r}"], source="environment")
    token = TokenSession(config.library, config.token_label, config.pin_file, strict=mode == "strict",
                         log=logging.getLogger("aegis.secrets.hsm"))
    token.open()
    try:
        yield config, token
    finally:
        token.close()


@click.group()
def hsm() -> None:
    """Keys and secrets in the PKCS#11 token (AEGIS_HSM_LIB, AEGIS_HSM_TOKEN, AEGIS_HSM_PIN_FILE)."""


@hsm.command("init-keys")
@click.option("--key", "keys", multiple=True, default=("audit", "timestamp"), show_default=True,
              help="name (CKA_LABEL) of a signing key to generate; repeat for several")
@click.option("--type", "kind", type=click.Choice(KEY_KINDS), default="ec-p256", show_default=True,
              help="ec-p256: ECDSA P-256; rsa-2048: RSA-PSS")
@click.option("--rotate", is_flag=True, help="replace existing keys; each old key stays in the token as "
                                             "<name>.rotated-<UTC time> so old signatures remain verifiable")
def init_keys(keys: tuple[str, ...], kind: str, rotate: bool) -> None:
    """Generate signing keys inside the token: sensitive, non-extractable, for signing only."""
    key_kind = cast(KeyKind, kind)
    for name in keys:
        check_key_name(name)
    with _token() as (_, token):
        def generate(session):
            existing = [name for name in keys if key_exists(session, name)]
            if existing and not rotate:
                raise SigningKeyError(
                    f"signing key(s) {', '.join(map(repr, existing))} exist already in token {token.ref.label}; "
                    f"nothing was generated. Use --rotate to replace them (old keys keep a new label)")
            lines = []
            now = datetime.now(UTC)
            for name in keys:
                if name in existing:
                    key, retired = rotate_signing_key(session, token.ref, name, key_kind, token.mechanisms, now)
                    lines.append(f"rotated key {name!r}: new {key.algorithm} key, public key "
                                 f"{fingerprint(key.public_pem)}; the previous key is now labelled {retired!r}")
                else:
                    key = generate_signing_key(session, token.ref, name, key_kind, token.mechanisms)
                    lines.append(f"generated key {name!r}: {key.algorithm}, sensitive and non-extractable, "
                                 f"public key {fingerprint(key.public_pem)}")
            return lines

        for line in token.run(generate, "generating signing keys"):
            click.echo(line)


@hsm.command("list")
def list_objects() -> None:
    """List the token's signing keys and stored secrets (names and properties, never values)."""
    with _token() as (config, token):
        def inventory(session):
            rows = []
            for name in signing_key_names(session):
                try:
                    key = find_signing_key(session, token.ref, name, token.mechanisms)
                except AegisError as exc:
                    rows.append(f"key     {name}  UNUSABLE: {exc}")
                    continue
                protection = "sensitive, non-extractable" if key.protected else (
                    f"EXPORTABLE (sensitive={key.sensitive}, extractable={key.extractable})")
                rows.append(f"key     {name}  {key.kind}  {protection}  {fingerprint(key.public_pem)}")
            rows += [f"secret  {name}  (data object {config.secret_label_prefix}{name})"
                     for name in secret_names(session, config.secret_label_prefix)]
            return rows

        rows = token.run(inventory, "listing the token's objects")
        info = token.info
        assert info is not None
        click.echo(f"token {info.label} ({info.manufacturer} {info.model}, serial {info.serial}) "
                   f"through {config.library}: {len(rows)} object(s)")
        for row in rows:
            click.echo(row)


@hsm.command("public-key")
@click.argument("key")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write the PEM here, not to stdout")
def public_key(key: str, out: Path | None) -> None:
    """Export signing key KEY's public key (PEM SubjectPublicKeyInfo) for verifiers."""
    check_key_name(key)
    with _token() as (_, token):
        signing_key = token.run(lambda session: find_signing_key(session, token.ref, key, token.mechanisms),
                                f"exporting the public key of {key!r}")
    if out is None:
        click.echo(signing_key.public_pem.decode("ascii"), nl=False)
        return
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        temporary.write_bytes(signing_key.public_pem)
        temporary.replace(out)
    except OSError as exc:
        raise click.ClickException(f"cannot write the public key to {out}: {exc.strerror}") from None
    click.echo(f"wrote the public key of {key!r} ({signing_key.algorithm}, {fingerprint(signing_key.public_pem)}) "
               f"to {out}", err=True)


def _read_value(source: BinaryIO) -> str:
    if source.isatty():
        return str(click.prompt("secret value", hide_input=True, confirmation_prompt=True, err=True))
    raw = source.read(MAX_SECRET_BYTES + 1)
    if len(raw) > MAX_SECRET_BYTES:
        raise SecretStoreError(f"the secret value is larger than {MAX_SECRET_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretStoreError("the secret value is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


@hsm.command("put-secret")
@click.argument("name")
@click.option("--from-file", "source", type=click.File("rb"), default="-",
              help="read the value from this file; default '-': stdin (a hidden prompt on a terminal). "
                   "One trailing line break is dropped")
@click.option("--replace", is_flag=True, help="replace the secret if it exists")
def put_secret(name: str, source: BinaryIO, replace: bool) -> None:
    """Store secret NAME in the token as a private data object (never pass values as arguments)."""
    value = _read_value(source)
    with _token() as (config, token):
        replaced = token.run(
            lambda session: store_secret(session, token.ref, config.secret_label_prefix, name, value, replace=replace),
            f"storing secret {name!r}")
    click.echo(f"{'replaced' if replaced else 'stored'} secret {name!r} as private data object "
               f"{config.secret_label_prefix + name!r} in token {config.token_label}")
