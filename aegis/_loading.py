"""Named, fail-closed loading of the plugins a config selects.

Installed plugins are *listed* from entry-point metadata without importing anything;
only the plugins the YAML names are imported (stevedore's ``NamedExtensionManager``,
one entry-point group per family). stevedore's defaults fail open (log and skip a
broken plugin, warn on a missing one, let a duplicate silently win); every one of them
is overridden here: a missing, broken or duplicated plugin is a startup error that names
the family, the plugin, its distribution and version, and lists what is installed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel, ValidationError
from stevedore import NamedExtensionManager

from aegis.config import DeploymentConfig, format_errors, secret_refs, section_path
from aegis.errors import ConfigError, PluginLoadError
from aegis.hookspecs import FAMILIES


def group(family: str) -> str:
    return f"aegis.{family}"


@dataclass(frozen=True)
class InstalledPlugin:
    """An entry point in an ``aegis.<family>`` group, known without importing it."""

    family: str
    name: str
    value: str
    distribution: str
    version: str

    def describe(self) -> str:
        return f"{self.name} ({self.distribution} {self.version})"


def _installed(ep: EntryPoint, family: str) -> InstalledPlugin:
    dist = ep.dist
    return InstalledPlugin(family=family, name=ep.name, value=ep.value,
                           distribution=dist.metadata["Name"] if dist else "?",
                           version=dist.version if dist else "?")


def installed_plugins(family: str | None = None) -> list[InstalledPlugin]:
    """Every installed plugin (of one family, or all), sorted by family and name."""
    families = [family] if family else list(FAMILIES)
    found = []
    for fam in families:
        seen = set()
        for ep in entry_points(group=group(fam)):
            plugin = _installed(ep, fam)
            # The same distribution can appear twice on sys.path (e.g. an editable install
            # next to a regular one); only distinct distributions count as duplicates.
            key = (plugin.name, plugin.distribution, plugin.value)
            if key not in seen:
                seen.add(key)
                found.append(plugin)
    return sorted(found, key=lambda p: (FAMILIES.index(p.family), p.name))


def _installed_list(family: str) -> str:
    names = [p.describe() for p in installed_plugins(family)]
    return ", ".join(names) if names else "none"


def find_plugin(family: str, name: str) -> InstalledPlugin:
    """The one installed plugin ``name`` of ``family``; missing or duplicate is an error."""
    if family not in FAMILIES:
        raise PluginLoadError(f"unknown plugin family {family!r}; families are {', '.join(FAMILIES)}")
    matches = [p for p in installed_plugins(family) if p.name == name]
    if not matches:
        raise PluginLoadError(
            f"{family} plugin {name!r} is not installed (entry-point group {group(family)}); "
            f"installed {family} plugins: {_installed_list(family)}. "
            f"Install it with: pip install aegis-plugin-{family}-{name}")
    if len(matches) > 1:
        which = "; ".join(m.describe() + f" -> {m.value}" for m in matches)
        raise PluginLoadError(
            f"{family} plugin {name!r} is installed {len(matches)} times: {which}. "
            f"Uninstall all but one distribution.")
    return matches[0]


def load_plugin_class(family: str, name: str) -> tuple[type, InstalledPlugin]:
    """Import exactly one plugin class, failing closed with its distribution and version."""
    info = find_plugin(family, name)

    def on_failure(_manager: Any, entrypoint: EntryPoint, exc: BaseException) -> None:
        raise PluginLoadError(
            f"{family} plugin {name!r} from {info.distribution} {info.version} failed to import "
            f"({entrypoint.value}): {type(exc).__name__}: {exc}") from exc

    def on_missing(names: Any) -> None:
        raise PluginLoadError(f"{family} plugin {name!r} vanished while loading; installed: "
                              f"{_installed_list(family)}")

    # stevedore memoises entry points per group for the process; the metadata scan above is
    # the truth (a plugin may have been installed since), so start from a fresh view.
    NamedExtensionManager.ENTRY_POINT_CACHE.pop(group(family), None)
    manager = NamedExtensionManager(
        group(family), names=[name], invoke_on_load=False, name_order=True,
        on_load_failure_callback=on_failure, on_missing_entrypoints_callback=on_missing,
        propagate_map_exceptions=True,
    )
    cls = manager[name].plugin
    config_cls = getattr(cls, "Config", None)
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        raise PluginLoadError(f"{family} plugin {name!r} from {info.distribution} {info.version} has no "
                              f"pydantic Config class")
    return cls, info


@dataclass
class LoadedPlugin:
    family: str
    position: int | None
    name: str
    cls: type
    info: InstalledPlugin
    raw_config: dict[str, Any]
    config: BaseModel | None = None
    instance: Any = None

    @property
    def path(self) -> str:
        return section_path(self.family, self.position, self.name)

    @functools.cached_property
    def key(self) -> str:
        """Registration name with pluggy, unique even if a plugin is used twice (looked up on every hook call)."""
        return f"{self.family}[{self.position}]:{self.name}" if self.position is not None else \
            f"{self.family}:{self.name}"


def _placeholder_secrets(value: Any) -> Any:
    from aegis.config import resolve_secret_refs
    return resolve_secret_refs(value, lambda name: f"<secret {name}>")


def load_all(config: DeploymentConfig, source: str = "config") -> list[LoadedPlugin]:
    """Phase two: import the named plugins and validate each section with its Config.

    Loading errors come first (nothing else is meaningful without the plugin); then all
    configuration errors of all plugins are reported together as one :class:`ConfigError`.
    Secret references are checked for shape here and resolved later, at startup.
    """
    loaded = []
    for family, position, ref in config.plugin_refs():
        cls, info = load_plugin_class(family, ref.plugin)
        loaded.append(LoadedPlugin(family, position, ref.plugin, cls, info, ref.config))
    errors: list[str] = []
    for lp in loaded:
        if lp.family == "secrets" and secret_refs(lp.raw_config):
            errors.append(f"{lp.path}: the secrets plugin's own section cannot use $secret references")
            continue
        try:
            lp.config = lp.cls.Config.model_validate(_placeholder_secrets(lp.raw_config))
        except ValidationError as exc:
            errors += format_errors(exc, prefix=lp.path)
    if errors:
        raise ConfigError(errors, source=source)
    return loaded
