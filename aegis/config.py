"""The deployment YAML: its outline, environment overrides and error reporting.

Validation has two phases. This module checks the outline (which plugins, in which
families, the decision thresholds, pipeline sizes); :mod:`aegis._loading` then validates
each plugin's own section with that plugin's ``Config`` class. Every error of both phases
is reported at once with its path, e.g. ``scoring[1] (rules): velocity.window: ...``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aegis.decide import DecisionConfig
from aegis.errors import ConfigError

#: Environment variables of the operator guide that win over the file.
ENV_OVERRIDES = {
    "AEGIS_SECRETS_MODE": "secrets.plugin",
    "AEGIS_SECURITY_MODE": "security_mode",
    "AEGIS_LOG_LEVEL": "log_level",
}
SECRET_REF = "$secret"


class PluginRef(BaseModel):
    """One plugin of a family and its own configuration section."""

    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(description="entry-point name of the plugin in its family's group")
    config: dict[str, Any] = Field(default_factory=dict, description="the plugin's section, validated by its Config")


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(4096, ge=1, le=1_000_000, description="most transactions per batch")
    queue_batches: int = Field(8, ge=1, le=1024, description="bound of the queue between intake and scoring")
    reload_interval: float = Field(1.0, gt=0, description="seconds between checks for changed plugin files")
    decode_workers: int = Field(0, ge=0, le=64, description="processes that validate and decode batches beside the "
                                                            "scoring process (0: decode in the intake thread)")
    inline_intake: bool = Field(True, description="poll a single source that supports it on the scoring thread, "
                                                  "without an intake thread (the sidecar's lowest latency)")
    state_dir: Path = Field(Path("var/state"), description="where plugins keep positions and checkpoints")


class AuditTrailConfig(BaseModel):
    """YAML section ``audit_trail``: how often records are sealed and with which key."""

    model_config = ConfigDict(extra="forbid")

    checkpoint_every: int = Field(10_000, ge=1, description="seal a checkpoint after this many records")
    checkpoint_seconds: float = Field(10.0, gt=0, description="... or after this many seconds, whichever first")
    signing_key: str = Field("audit", description="name of the secrets plugin's key that signs checkpoints")
    snapshot_dir: Path | None = Field(
        None, description="content-addressed store of the configuration and files behind every decision; keep it "
                          "as long as the audit trail (default: <pipeline.state_dir>/snapshots)")


class DeploymentConfig(BaseModel):
    """The whole deployment: installed plugins selected by name, plus kernel settings."""

    model_config = ConfigDict(extra="forbid")

    deployment: str = Field("aegis", description="name of this deployment (appears in logs and records)")
    security_mode: Literal["strict", "permissive"] = Field(
        "strict", description="strict refuses secrets from environment variables (AEGIS_SECURITY_MODE)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    secrets: PluginRef = Field(description="exactly one secrets plugin (AEGIS_SECRETS_MODE picks it)")
    ingress: list[PluginRef] = Field(min_length=1)
    scoring: list[PluginRef] = Field(min_length=1, description="called in this order")
    audit: list[PluginRef] = Field(min_length=1)
    metrics: list[PluginRef] = Field(default_factory=list)
    proving: PluginRef | None = None
    decision: DecisionConfig = Field(default_factory=DecisionConfig)
    audit_trail: AuditTrailConfig = Field(default_factory=AuditTrailConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)

    def plugin_refs(self) -> list[tuple[str, int | None, PluginRef]]:
        """Every (family, position, ref); position is ``None`` for singleton families."""
        refs: list[tuple[str, int | None, PluginRef]] = [("secrets", None, self.secrets)]
        for family in ("audit", "metrics", "scoring", "ingress"):
            refs += [(family, i, r) for i, r in enumerate(getattr(self, family))]
        if self.proving is not None:
            refs.append(("proving", None, self.proving))
        return refs


def section_path(family: str, position: int | None, plugin: str) -> str:
    """How errors name a plugin's section: ``scoring[1] (rules)`` or ``secrets (env)``."""
    return f"{family}[{position}] ({plugin})" if position is not None else f"{family} ({plugin})"


def format_errors(error: ValidationError, prefix: str = "") -> list[str]:
    """pydantic errors as ``path: message`` lines, ``path`` like ``scoring[1].config.x``."""
    out = []
    for e in error.errors():
        path = ""
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        where = f"{prefix}: {path}" if prefix and path else (prefix or path or "(top level)")
        out.append(f"{where}: {e['msg']}")
    return out


def apply_env_overrides(raw: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Apply AEGIS_SECRETS_MODE / AEGIS_SECURITY_MODE / AEGIS_LOG_LEVEL over the file."""
    env = os.environ if environ is None else environ
    raw = dict(raw)
    if mode := env.get("AEGIS_SECURITY_MODE"):
        raw["security_mode"] = mode.strip().lower()
    if level := env.get("AEGIS_LOG_LEVEL"):
        raw["log_level"] = level.strip().upper()
    if secrets_mode := env.get("AEGIS_SECRETS_MODE"):
        current = raw.get("secrets") if isinstance(raw.get("secrets"), dict) else {}
        if current.get("plugin") != secrets_mode.strip():
            # Another backend: its section in the file belongs to the old one.
            raw["secrets"] = {"plugin": secrets_mode.strip(), "config": {}}
    return raw


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, environ: dict[str, str] | None = None) -> Any:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in string values (for paths and hosts).

    Secrets never go this way: reference them with ``{"$secret": name}`` instead.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            if m.group(1) in env:
                return env[m.group(1)]
            if m.group(2) is not None:
                return m.group(2)
            raise ValueError(f"environment variable {m.group(1)} is not set and has no default")
        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    return value


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read config file: {exc.strerror}"], source=str(path)) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source=str(path)) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"top level must be a mapping, got {type(raw).__name__}"], source=str(path))
    try:
        return expand_env(raw)
    except ValueError as exc:
        raise ConfigError([str(exc)], source=str(path)) from None


def parse_outline(raw: dict[str, Any], source: str = "config",
                  environ: dict[str, str] | None = None) -> DeploymentConfig:
    """Phase one: validate the outline (env overrides applied); raise :class:`ConfigError`."""
    try:
        return DeploymentConfig.model_validate(apply_env_overrides(raw, environ))
    except ValidationError as exc:
        raise ConfigError(format_errors(exc), source=source) from None


def load_outline(path: Path, environ: dict[str, str] | None = None) -> DeploymentConfig:
    return parse_outline(read_yaml(path), source=str(path), environ=environ)


def secret_refs(value: Any) -> list[str]:
    """Names of every ``{"$secret": name}`` reference inside a config value."""
    if isinstance(value, dict):
        if set(value) == {SECRET_REF}:
            return [str(value[SECRET_REF])]
        return [n for v in value.values() for n in secret_refs(v)]
    if isinstance(value, list):
        return [n for v in value for n in secret_refs(v)]
    return []


def resolve_secret_refs(value: Any, resolve) -> Any:
    """Replace each ``{"$secret": name}`` by ``resolve(name)``."""
    if isinstance(value, dict):
        if set(value) == {SECRET_REF}:
            return resolve(str(value[SECRET_REF]))
        return {k: resolve_secret_refs(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secret_refs(v, resolve) for v in value]
    return value
