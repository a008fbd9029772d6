"""The pluggy PluginManager and the host that calls hooks family by family.

pluggy calls implementations in LIFO registration order and stops at the first error,
so where order or isolation matters (scoring, ingress) the host calls one plugin at a
time through ``subset_hook_caller``, in the order the YAML gives.
"""

from __future__ import annotations

import inspect
import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import pluggy

from aegis import hookspecs
from aegis._loading import LoadedPlugin
from aegis.config import resolve_secret_refs
from aegis.context import Context
from aegis.errors import AegisError, ConfigError, PluginLoadError
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import AccountIndex, ScoreResult

log = logging.getLogger("aegis")
T = TypeVar("T")

STARTUP_ORDER = ("secrets", "audit", "metrics", "scoring", "proving", "ingress")
#: Hooks a plugin of each family must implement.
REQUIRED_HOOKS = {
    "ingress": ("aegis_ingress_poll", "aegis_ingress_ack"),
    "scoring": ("aegis_scoring_score",),
    "secrets": ("aegis_secrets_resolve", "aegis_secrets_sign", "aegis_secrets_public_key"),
    "proving": ("aegis_proving_submit",),
    "audit": ("aegis_audit_write", "aegis_audit_dead_letter", "aegis_audit_known", "aegis_audit_head",
              "aegis_audit_checkpoint", "aegis_audit_scan", "aegis_audit_checkpoints"),
    "metrics": ("aegis_metrics_observe",),
}


class AegisPluginManager(pluggy.PluginManager):
    """Treats every ``aegis_*`` method as a hook implementation (like pytest does with
    ``pytest_*``), so a misspelled hook name is caught by ``check_pending()`` instead of
    being silently ignored."""

    def parse_hookimpl_opts(self, plugin: object, name: str):  # type: ignore[override]
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("aegis_") and inspect.isroutine(getattr(plugin, name, None)):
            opts = {}
        return opts


def new_plugin_manager() -> AegisPluginManager:
    pm = AegisPluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def implemented_hooks(plugin: object) -> list[str]:
    """Hook names a plugin object (or class) implements."""
    return sorted(n for n in dir(plugin) if n.startswith("aegis_") and callable(getattr(plugin, n)))


class PluginHost:
    """Owns the loaded plugin instances and calls their hooks for the kernel."""

    def __init__(self, plugins: list[LoadedPlugin], context: Context):
        self.pm = new_plugin_manager()
        self.plugins = plugins
        self.context = context
        self._started: list[LoadedPlugin] = []
        self._callers: dict[tuple[str, str], Any] = {}
        #: each family's plugins, with the list and length of ``plugins`` they were taken from
        self._families: dict[str, tuple[list[LoadedPlugin], int, list[LoadedPlugin]]] = {}
        #: the process's account interning: batches and restored shard state share it
        self.accounts = AccountIndex()
        #: set by a running pipeline: runs a function on its main thread between batches
        self.on_main_thread: Callable[[Callable[[], Any]], Any] | None = None

    # -- construction ------------------------------------------------------

    def family(self, family: str) -> list[LoadedPlugin]:
        """The plugins of ``family``, in configuration order (a fresh list: callers may keep it)."""
        return list(self._family(family))

    def has(self, family: str) -> bool:
        """Whether any plugin of ``family`` is loaded."""
        return bool(self._family(family))

    def _family(self, family: str) -> list[LoadedPlugin]:
        found = self._families.get(family)
        if found is None or found[0] is not self.plugins or found[1] != len(self.plugins):
            found = self._families[family] = (self.plugins, len(self.plugins),
                                              [p for p in self.plugins if p.family == family])
        return found[2]

    def _instantiate(self, lp: LoadedPlugin) -> None:
        try:
            lp.instance = lp.cls(lp.config)
        except AegisError:
            raise
        except Exception as exc:
            raise PluginLoadError(f"{lp.path} from {lp.info.distribution} {lp.info.version} failed to "
                                  f"initialise: {type(exc).__name__}: {exc}") from exc
        missing = [h for h in REQUIRED_HOOKS[lp.family] if not callable(getattr(lp.instance, h, None))]
        if missing:
            raise PluginLoadError(f"{lp.path} from {lp.info.distribution} {lp.info.version} does not "
                                  f"implement {', '.join(missing)}")
        try:
            self.pm.register(lp.instance, name=lp.key)
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(f"{lp.path} from {lp.info.distribution} {lp.info.version}: {exc}") from exc

    def build(self) -> None:
        """Construct and register the secrets plugin, resolve secret references, then the rest."""
        secrets = self.family("secrets")
        if len(secrets) > 1:
            raise PluginLoadError(f"exactly one secrets plugin must be configured, got {len(secrets)}")
        if len(self.family("proving")) > 1:
            raise PluginLoadError("at most one proving plugin may be configured")
        if secrets:  # a partial host (e.g. audit verification) may start without one
            self._instantiate(secrets[0])
        for lp in self.plugins:
            if lp.family == "secrets":
                continue
            if resolved := self._resolve_refs(lp):
                lp.config = resolved
            self._instantiate(lp)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
        for lp in self.plugins:
            others = [p.instance for p in self.plugins if p is not lp]
            for hook in hookspecs.hook_names():
                caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
                self._callers[(hook, lp.key)] = _direct(caller) or caller

    def _resolve_refs(self, lp: LoadedPlugin):
        from aegis.config import secret_refs
        if not secret_refs(lp.raw_config):
            return None
        if not self.family("secrets"):
            raise PluginLoadError(f"{lp.path} references secrets but this command started no secrets plugin")
        self._start(self.family("secrets")[0])
        raw = resolve_secret_refs(lp.raw_config, self.resolve_secret)
        try:
            return lp.cls.Config.model_validate(raw)
        except Exception as exc:  # pydantic.ValidationError
            from aegis.config import format_errors
            raise ConfigError(format_errors(exc, prefix=lp.path)) from None

    def call(self, hook: str, lp: LoadedPlugin, **kwargs: Any) -> Any:
        """Call ``hook`` on one plugin only; returns its result (or list for non-firstresult)."""
        caller = self._callers.get((hook, lp.key)) or self.pm.subset_hook_caller(
            hook, remove_plugins=[p.instance for p in self.plugins if p is not lp])
        return caller(context=self.context, **kwargs)

    # -- lifecycle ---------------------------------------------------------

    def _start(self, lp: LoadedPlugin) -> None:
        if lp in self._started:
            return
        try:
            self.call("aegis_startup", lp)
        except AegisError:
            raise
        except Exception as exc:
            raise PluginLoadError(f"{lp.path} ({lp.info.distribution} {lp.info.version}) failed to start: "
                                  f"{type(exc).__name__}: {exc}") from exc
        self._started.append(lp)

    def startup(self) -> None:
        for family in STARTUP_ORDER:
            for lp in self.family(family):
                self._start(lp)

    def shutdown(self) -> None:
        for lp in reversed(self._started):
            try:
                self.call("aegis_shutdown", lp)
            except Exception:
                log.exception("%s failed to shut down cleanly", lp.path)
        self._started.clear()

    def reload(self) -> list[ReloadReport]:
        reports: list[ReloadReport] = []
        for lp in self.plugins:
            try:
                reports += [replace(r, plugin=lp.path) for r in self.call("aegis_reload", lp) if r is not None]
            except Exception as exc:
                reports.append(ReloadReport(plugin=lp.path, artefact="?", ok=False, error=f"{exc}"))
        return reports

    def self_test(self) -> list[SelfTestResult]:
        results: list[SelfTestResult] = []
        for lp in self.plugins:
            try:
                for r in self.call("aegis_self_test", lp):
                    # Results are named by the plugin's section, which the plugin cannot know.
                    results += [replace(x, plugin=lp.path) for x in r or []]
            except Exception as exc:
                results.append(SelfTestResult(plugin=lp.path, check="self-test", ok=False,
                                              detail=f"{type(exc).__name__}: {exc}"))
        return results

    # -- secrets -----------------------------------------------------------

    def _secrets(self) -> LoadedPlugin:
        return self.family("secrets")[0]

    def resolve_secret(self, name: str) -> str:
        return self.call("aegis_secrets_resolve", self._secrets(), name=name)

    def sign(self, data: bytes, key: str) -> bytes:
        return self.call("aegis_secrets_sign", self._secrets(), data=data, key=key)

    def public_key(self, key: str) -> bytes:
        return self.call("aegis_secrets_public_key", self._secrets(), key=key)

    # -- scoring, audit, ingress, metrics, proving -------------------------

    def score(self, batch) -> list[tuple[str, ScoreResult | BaseException]]:
        """Each scoring plugin's result in YAML order; a raising plugin yields its exception."""
        out: list[tuple[str, ScoreResult | BaseException]] = []
        for lp in self.family("scoring"):
            try:
                results = self.call("aegis_scoring_score", lp, batch=batch)
                result = results[0] if isinstance(results, list) else results
                if not isinstance(result, ScoreResult):
                    raise TypeError(f"aegis_scoring_score returned {type(result).__name__}, not ScoreResult")
                out.append((lp.path, result))
            except Exception as exc:  # fail closed: the kernel turns this into INVESTIGATE
                log.error("scoring plugin %s failed on a batch of %d: %s: %s", lp.path, batch.n,
                          type(exc).__name__, exc)
                out.append((lp.path, exc))
        return out

    def one(self, hook: str, lp: LoadedPlugin, **kwargs: Any) -> Any:
        """Call a non-firstresult hook on one plugin and return its single result."""
        results = self.call(hook, lp, **kwargs)
        return results[0] if results else None

    def dead_letter(self, rejects: Sequence) -> None:
        for lp in self.family("audit"):
            self.call("aegis_audit_dead_letter", lp, rejects=rejects)

    def lookup(self, uetr: str) -> dict | None:
        for lp in self.family("audit"):
            results = self.call("aegis_audit_lookup", lp, uetr=uetr)
            found = results if isinstance(results, dict) else next((r for r in results or [] if r), None)
            if found:
                return found
        return None

    def poll(self, lp: LoadedPlugin, max_records: int):
        return self.call("aegis_ingress_poll", lp, max_records=max_records)

    def polls_inline(self, lp: LoadedPlugin) -> bool:
        """Whether ``lp`` implements :func:`~aegis.hookspecs.aegis_ingress_poll_inline` (polled on the main thread)."""
        return callable(getattr(lp.instance, "aegis_ingress_poll_inline", None))

    def poll_inline(self, lp: LoadedPlugin, max_records: int):
        return self.call("aegis_ingress_poll_inline", lp, max_records=max_records)

    def ack(self, lp: LoadedPlugin, batch, decisions, rejects) -> None:
        self.call("aegis_ingress_ack", lp, batch=batch, decisions=decisions, rejects=rejects)

    def observe(self, stats) -> None:
        for lp in self.family("metrics"):
            try:
                self.call("aegis_metrics_observe", lp, stats=stats)
            except Exception:
                log.exception("metrics plugin %s failed", lp.path)

    def proof_references(self, decisions) -> list[str | None] | None:
        """The proving plugin's reference per decision (``None``: no proving plugin, or no references)."""
        for lp in self.family("proving"):
            try:
                refs = self.call("aegis_proving_reference", lp, decisions=decisions)
            except Exception:
                log.exception("proving plugin %s failed to name proof references; records go without", lp.path)
                return None
            if refs is None:
                return None
            refs = list(refs)
            if len(refs) != len(decisions):
                log.error("proving plugin %s named %d proof references for %d decisions; records go without",
                          lp.path, len(refs), len(decisions))
                return None
            return [None if r is None else str(r) for r in refs]
        return None

    def submit_proofs(self, decisions) -> None:
        for lp in self.family("proving"):
            try:
                self.call("aegis_proving_submit", lp, decisions=decisions)
            except Exception:
                log.exception("proving plugin %s failed to queue proofs", lp.path)

    # -- shard state (partition-local scoring state) ---------------------------

    def _between_batches(self, fn: Callable[[], T]) -> T:
        runner = self.on_main_thread
        return runner(fn) if runner is not None else fn()

    def checkpoint_shards(self, shards: Sequence[int]) -> dict[int, bytes]:
        """Every scoring plugin's state of each shard, as one opaque blob per shard.

        Callable from any thread (an ingress's rebalance callback): in a running pipeline it
        runs on the main thread after every batch queued before the call was acknowledged.
        """
        return self._between_batches(lambda: self._checkpoint(shards))

    def restore_shards(self, shards: Sequence[int], blobs: Mapping[int, bytes]) -> None:
        """Hand each scoring plugin its part of ``blobs`` (from :meth:`checkpoint_shards`) for
        the newly assigned ``shards``; on the main thread, like :meth:`checkpoint_shards`."""
        self._between_batches(lambda: self._restore(shards, blobs))

    def _checkpoint(self, shards: Sequence[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for shard in shards:
            parts: dict[str, bytes] = {}
            for lp in self.family("scoring"):
                blob = self.one("aegis_scoring_state_save", lp, shards=[shard])
                if blob is not None:
                    parts[lp.path] = bytes(blob)
            out[shard] = pack_shard_state(parts)
        return out

    def _restore(self, shards: Sequence[int], blobs: Mapping[int, bytes]) -> None:
        unpacked = {shard: unpack_shard_state(blob, shard) for shard, blob in blobs.items()}
        for lp in self.family("scoring"):
            mine = {shard: parts[lp.path] for shard, parts in unpacked.items() if lp.path in parts}
            self.call("aegis_scoring_state_restore", lp, shards=list(shards), blobs=mine)


_SHARD_STATE_MAGIC = b"AEGS1"


def pack_shard_state(parts: Mapping[str, bytes]) -> bytes:
    """One shard's checkpoint: scoring plugin section path → its blob, length-prefixed."""
    out = [_SHARD_STATE_MAGIC, struct.pack(">I", len(parts))]
    for name, blob in parts.items():
        raw = name.encode()
        out += [struct.pack(">H", len(raw)), raw, struct.pack(">Q", len(blob)), blob]
    return b"".join(out)


def unpack_shard_state(data: bytes, shard: int) -> dict[str, bytes]:
    """The inverse of :func:`pack_shard_state`; raises ``ValueError`` naming ``shard`` on bad bytes."""
    view = memoryview(data)
    if bytes(view[:5]) != _SHARD_STATE_MAGIC:
        raise ValueError(f"shard {shard}: state checkpoint does not start with {_SHARD_STATE_MAGIC!r}")
    try:
        (count,) = struct.unpack_from(">I", view, 5)
        pos, parts = 9, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">H", view, pos)
            name = bytes(view[pos + 2:pos + 2 + n]).decode()
            pos += 2 + n
            (size,) = struct.unpack_from(">Q", view, pos)
            pos += 8
            if pos + size > len(view):
                raise ValueError("truncated")
            parts[name] = bytes(view[pos:pos + size])
            pos += size
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"shard {shard}: state checkpoint is corrupt ({exc})") from None
    return parts


def _direct(caller: pluggy.HookCaller) -> Callable[..., Any] | None:
    """``caller`` as a plain call of its one implementation, as pluggy would make it (arguments by
    the names the implementation takes, a list of the non-``None`` result unless ``firstresult``),
    without pluggy's per-call machinery, which costs more than many small hooks themselves (the
    kernel calls a few per batch, and sidecar batches hold one payment). ``None`` when pluggy is
    needed: no implementation, several, or a wrapper."""
    impls = caller.get_hookimpls()
    if len(impls) != 1 or impls[0].hookwrapper or impls[0].wrapper:
        return None
    function, names = impls[0].function, impls[0].argnames
    first = bool(caller.spec and caller.spec.opts.get("firstresult"))

    def call(**kwargs: Any) -> Any:
        try:
            args = [kwargs[name] for name in names]
        except KeyError as exc:
            raise pluggy.HookCallError(f"hook call must provide argument {exc.args[0]!r}") from None
        result = function(*args)
        return result if first else ([] if result is None else [result])
    return call
