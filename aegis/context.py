"""The frozen context object every hook receives.

New capabilities are added as new fields here, never as new hook arguments, so
plugins written today keep working (see :mod:`aegis.hookspecs`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aegis._manager import PluginHost


@dataclass(frozen=True)
class Context:
    """Runtime facts shared with plugins.

    :param deployment: the deployment's name from the YAML.
    :param security_mode: ``strict`` (default) or ``permissive``.
    :param secrets_mode: name of the active secrets plugin (``env``, ``hsm``, ``vault``).
    :param state_dir: directory where plugins keep resumable state (positions, checkpoints).
    :param log: the ``aegis`` logger; plugins log through children of it.
    :param host: the plugin host, for cross-family calls such as signing
        (:meth:`aegis._manager.PluginHost.sign`).
    """

    deployment: str = "aegis"
    security_mode: Literal["strict", "permissive"] = "strict"
    secrets_mode: str = "env"
    state_dir: Path = field(default_factory=lambda: Path("var/state"))
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("aegis"))
    host: PluginHost | None = field(default=None, repr=False, compare=False)

    @property
    def strict(self) -> bool:
        return self.security_mode == "strict"
