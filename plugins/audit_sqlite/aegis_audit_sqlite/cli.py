"""``aegis audit backup DEST``: an online backup of the SQLite audit database, integrity-checked.

The database is named with ``--source PATH`` or found in a deployment YAML (``-c FILE``: its
``sqlite`` audit sink's ``path``). :func:`backup_command` builds the same command under another
name, for the kernel's ``aegis audit backup``.
"""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from aegis.config import format_errors, load_outline
from aegis.errors import ConfigError
from aegis_audit_sqlite.backup import BackupError, backup
from aegis_audit_sqlite.config import SqliteAuditConfig


def database_of_deployment(config_path: Path) -> Path:
    """The ``path`` of the deployment's one ``sqlite`` audit sink."""
    outline = load_outline(config_path)
    sinks = [(i, ref) for i, ref in enumerate(outline.audit) if ref.plugin == "sqlite"]
    if not sinks:
        raise click.UsageError(f"{config_path} has no sqlite audit sink (audit: [{{plugin: sqlite, ...}}]); "
                               f"name the database with --source")
    if len(sinks) > 1:
        paths = ", ".join(str(ref.config.get("path", "aegis_audit.db")) for _, ref in sinks)
        raise click.UsageError(f"{config_path} has {len(sinks)} sqlite audit sinks ({paths}); "
                               f"name the one to back up with --source")
    position, ref = sinks[0]
    try:
        return SqliteAuditConfig.model_validate(ref.config).path
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, prefix=f"audit[{position}] (sqlite).config"),
                          source=str(config_path)) from None


def backup_command(name: str) -> click.Command:
    """The backup command, called ``name`` (``backup`` under ``aegis audit``)."""

    @click.command(name)
    @click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("-c", "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="deployment YAML whose sqlite audit sink is backed up")
    @click.option("--source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="the audit database to back up (instead of -c)")
    def command(dest: Path, config_path: Path | None, source: Path | None) -> None:
        """Copy the SQLite audit database to DEST while it is in use (SQLite's backup API), then run
        PRAGMA integrity_check on the copy. DEST must not exist; it appears only when the check passed."""
        if source is not None and config_path is None:
            database = source
        elif config_path is not None and source is None:
            database = database_of_deployment(config_path)
        else:
            raise click.UsageError("name the database to back up: either -c deployment.yaml or --source PATH")
        try:
            report = backup(database, dest)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"backup of {database} OK: {report.summary()}")

    return command


#: ``aegis audit backup`` (entry-point group ``aegis.audit.commands``).
audit_backup = backup_command("backup")
