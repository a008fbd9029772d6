"""``aegis vault``: create the Transit signing keys; show server, token and secrets (never the token itself).

The connection comes from a deployment's ``secrets`` section (``-c deployment.yaml``) or, without
one, from ``VAULT_ADDR``, ``VAULT_TOKEN_FILE`` and ``VAULT_SECRET_PATH``; the security mode from
the deployment or ``AEGIS_SECURITY_MODE`` (default strict).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from pydantic import ValidationError

from aegis.config import format_errors, load_outline
from aegis.errors import AegisError, ConfigError
from aegis.signing import fingerprint
from aegis_secrets_vault.config import VaultConfig
from aegis_secrets_vault.kv import secret_versions
from aegis_secrets_vault.session import VaultSession
from aegis_secrets_vault.transit import DEFAULT_KEY_TYPE, SIGNING_KEY_TYPES, TransitKeys

log = logging.getLogger("aegis.secrets.vault")


def load_config(deployment: Path | None) -> tuple[VaultConfig, bool]:
    """The plugin's config and whether security mode is strict, from a deployment or the environment."""
    if deployment is not None:
        outline = load_outline(deployment)
        if outline.secrets.plugin != "vault":
            raise click.UsageError(f"{deployment}: the secrets backend is {outline.secrets.plugin!r}, not 'vault'")
        raw, strict, source = outline.secrets.config, outline.security_mode == "strict", str(deployment)
    else:
        mode = os.environ.get("AEGIS_SECURITY_MODE", "strict").strip().lower()
        raw, strict, source = {}, mode != "permissive", "environment"
    try:
        return VaultConfig.model_validate(raw), strict
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, prefix="secrets (vault)"), source=source) from None


@contextmanager
def connected(deployment: Path | None) -> Iterator[tuple[VaultConfig, VaultSession, TransitKeys]]:
    config, strict = load_config(deployment)
    session = VaultSession(config, strict=strict, log=log)
    try:
        session.open(renew=False)
        yield config, session, TransitKeys(session, config.transit_mount, strict=strict, log=log)
    finally:
        session.close()


@click.group()
@click.option("-c", "--config", "deployment", type=click.Path(dir_okay=False, path_type=Path),
              help="deployment YAML whose secrets section configures Vault (default: VAULT_ADDR, "
                   "VAULT_TOKEN_FILE, VAULT_SECRET_PATH)")
@click.pass_context
def vault(ctx: click.Context, deployment: Path | None) -> None:
    """Vault / OpenBao secrets backend: signing keys and connection status."""
    ctx.obj = deployment


@vault.command("init-keys")
@click.option("--key", "keys", multiple=True, default=("audit",), show_default=True,
              help="Transit key to create (repeat for several)")
@click.option("--type", "key_type", type=click.Choice(SIGNING_KEY_TYPES), default=DEFAULT_KEY_TYPE,
              show_default=True, help="key type of keys that do not exist yet")
@click.pass_obj
def init_keys(deployment: Path | None, keys: tuple[str, ...], key_type: str) -> None:
    """Create the signing keys in Transit (not exportable); keys that exist are left as they are."""
    with connected(deployment) as (config, _session, transit):
        for key in keys:
            created, info = transit.create(key, key_type)
            where = f"{config.transit_mount}/keys/{key}"
            state = "created" if created else "exists:"
            click.echo(f"{state} Transit key {where} ({info.type}, version {info.latest_version}, "
                       f"{'EXPORTABLE' if info.exportable else 'not exportable'}), public key "
                       f"{fingerprint(info.public_key_pem)}")
            if info.exportable:
                click.echo(f"warning: {where} is exportable, so its private key can leave Vault; strict mode "
                           f"refuses to sign with it", err=True)


@vault.command("status")
@click.pass_obj
def status(deployment: Path | None) -> None:
    """Server, token (TTL, policies; never the token itself), secrets and self-test key."""
    with connected(deployment) as (config, session, transit):
        health = session.health()
        token = session.token
        assert token is not None
        rows = [
            ("server", f"{config.address} (version {health.get('version', '?')}, "
                       f"{'sealed' if health.get('sealed') else 'unsealed'})"),
            ("token file", str(config.token_file)),
            ("token", token.describe()),
            ("token expires", token.expire_time or "never"),
        ]
        try:
            version, count = secret_versions(session, config.kv)
            rows.append(("secrets", f"{config.kv.api_path} (version {version}, {count} key(s))"))
        except AegisError as exc:
            rows.append(("secrets", f"{config.kv.api_path}: {exc}"))
        try:
            key = transit.describe(config.self_test_key)
            rows.append(("signing key", f"{config.transit_mount}/keys/{key.name} ({key.type}, version "
                                        f"{key.latest_version}, public key {fingerprint(key.public_key_pem)})"))
        except AegisError as exc:
            rows.append(("signing key", str(exc)))
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            click.echo(f"{name:<{width}}  {value}")
