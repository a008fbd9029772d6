"""From a YAML file to a running set of plugins: outline, loading, secrets, startup."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from aegis._loading import load_all
from aegis._manager import PluginHost
from aegis.config import DeploymentConfig, load_outline, parse_outline
from aegis.context import Context

log = logging.getLogger("aegis")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aegis").setLevel(getattr(logging, level, logging.INFO))


def check(path: Path | None = None, raw: dict[str, Any] | None = None) -> DeploymentConfig:
    """Both validation phases without starting anything; raises ConfigError/PluginLoadError."""
    config = load_outline(path) if raw is None else parse_outline(raw)
    load_all(config, source=str(path or "config"))
    return config


def build_host(config: DeploymentConfig, source: str = "config", families: tuple[str, ...] | None = None
               ) -> PluginHost:
    plugins = [p for p in load_all(config, source=source) if families is None or p.family in families]
    context = Context(deployment=config.deployment, security_mode=config.security_mode,
                      secrets_mode=config.secrets.plugin, state_dir=Path(config.pipeline.state_dir),
                      log=logging.getLogger("aegis"))
    host = PluginHost(plugins, context)
    host.context = replace(context, host=host)
    return host


@contextmanager
def started(config: DeploymentConfig, source: str = "config",
            families: tuple[str, ...] | None = None) -> Iterator[PluginHost]:
    """Load, build and start the configured plugins (all, or only ``families``); shut them down on exit."""
    host = build_host(config, source, families)
    Path(config.pipeline.state_dir).mkdir(parents=True, exist_ok=True)
    try:
        host.build()
        host.startup()
        yield host
    finally:
        host.shutdown()
