"""Deterministic replay: recompute a recorded decision from the stored transactions, the
snapshots that were in force, and the recorded thresholds and weights.

Scoring state (velocity windows, account histories) starts empty when a process starts, so the
replay feeds, in chain order, every record of the same run up to the one asked for. Each scoring
plugin is rebuilt once from the run's first snapshot; when a later record names another snapshot
(a hot reload happened), its files are written over the restored ones and the plugin reloads
them, exactly as it did in production. The target's decision, reason code, risk and every factor
score are then compared with the record.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

from aegis._loading import LoadedPlugin, load_plugin_class
from aegis._manager import PluginHost
from aegis.audit_chain import split_line
from aegis.config import resolve_secret_refs, secret_refs
from aegis.context import Context
from aegis.decide import DECISION_NAMES, DecisionConfig, decide
from aegis.decode import decode
from aegis.errors import AegisError
from aegis.model import AccountIndex, RawBatch
from aegis.snapshots import SnapshotStore, restore

BATCH = 4096
TOLERANCE = 1e-6


class ReplayError(AegisError):
    exit_code = 2


@dataclass
class ReplayReport:
    uetr: str
    replayed_records: int
    recorded: dict
    replayed: dict
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


def _records_of_run(host: PluginHost, uetr: str) -> list[dict]:
    """The target's run, in chain order, up to and including the target."""
    uetr = uetr.strip().lower()
    for lp in host.family("audit"):
        target = host.call("aegis_audit_lookup", lp, uetr=uetr)
        if target:
            break
    else:
        raise ReplayError(f"UETR {uetr} is not in any audit sink of this deployment")
    if "run" not in target or "snapshots" not in target:
        raise ReplayError(f"the record of {uetr} predates replay support (no run id or snapshots recorded)")
    records = []
    for line in host.one("aegis_audit_scan", lp, after_seq=0) or ():
        body, chain = split_line(line)
        if chain["seq"] > target["chain"]["seq"]:
            break
        record = orjson.loads(body)
        if record.get("run") == target["run"]:
            records.append(record)
    return records


class _Scorers:
    """The deployment's scoring plugins, rebuilt from snapshots in a private directory."""

    def __init__(self, store: SnapshotStore, workdir: Path, resolve_secret: Callable[[str], str] | None = None):
        self.store, self.workdir = store, workdir
        self.resolve_secret = resolve_secret
        self.host: PluginHost | None = None
        self.current: dict[str, str] = {}

    def use(self, snapshots: dict[str, str]) -> None:
        if self.host is None:
            self._build(snapshots)
        elif snapshots != self.current:
            for path, digest in snapshots.items():
                if self.current.get(path) != digest:
                    restore(self.store.get(digest), self.workdir / _slug(path))
            failed = [r for r in self.host.reload() if not r.ok]
            if failed:
                raise ReplayError(f"a snapshot could not be reloaded: {failed[0].plugin}: {failed[0].error}")
        self.current = dict(snapshots)

    def _build(self, snapshots: dict[str, str]) -> None:
        plugins = []
        for path, digest in sorted(snapshots.items()):
            doc = self.store.get(digest)
            position = int(path.split("[", 1)[1].split("]", 1)[0])
            cls, info = load_plugin_class("scoring", doc["plugin"])
            raw = restore(doc, self.workdir / _slug(path))
            if names := secret_refs(raw):
                if self.resolve_secret is None:
                    raise ReplayError(f"the snapshot of {path} references secret(s) {', '.join(names)}; replay "
                                      "needs the deployment's secrets plugin to resolve them")
                raw = resolve_secret_refs(raw, self.resolve_secret)
            config = cls.Config.model_validate(raw)
            plugins.append(LoadedPlugin("scoring", position, doc["plugin"], cls, info, {}, config))
        context = Context(deployment="replay", security_mode="permissive", state_dir=self.workdir / "state",
                          log=logging.getLogger("aegis.replay"))
        self.host = PluginHost(plugins, context)
        self.host.context = replace(context, host=self.host)
        for lp in plugins:
            self.host._instantiate(lp)
        self.host.startup()

    def close(self) -> None:
        if self.host is not None:
            self.host.shutdown()


def _slug(path: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in path)


def replay(host: PluginHost, uetr: str, snapshot_dir: Path) -> ReplayReport:
    """Recompute ``uetr``'s decision; ``host`` holds the deployment's started audit plugins."""
    records = _records_of_run(host, uetr)
    target = records[-1]
    store = SnapshotStore(snapshot_dir)
    accounts = AccountIndex()
    replayed: dict = {}
    with tempfile.TemporaryDirectory(prefix="aegis-replay-") as tmp:
        scorers = _Scorers(store, Path(tmp), host.resolve_secret if host.family("secrets") else None)
        try:
            start = 0
            while start < len(records):
                snapshots = records[start]["snapshots"]
                end = start
                while end < len(records) and end - start < BATCH and records[end]["snapshots"] == snapshots:
                    end += 1
                chunk = records[start:end]
                scorers.use(snapshots)
                raw = RawBatch("replay", [r["transaction"] for r in chunk], [r["origin"] for r in chunk])
                batch, rejects = decode(raw, accounts)
                if rejects or batch is None:
                    raise ReplayError(f"a stored transaction no longer validates: {rejects[0].reason}")
                # Plugins are rebuilt at their deployment positions, so paths and order match the run.
                results = scorers.host.score(batch)
                config = DecisionConfig(investigate_at=target["thresholds"]["investigate_at"],
                                        block_at=target["thresholds"]["block_at"],
                                        weights=target.get("weights", {}))
                decisions = decide(batch, results, config)
                if end == len(records):
                    i = batch.n - 1
                    replayed = {
                        "decision": DECISION_NAMES[int(decisions.decision[i])],
                        "reason_code": decisions.reason_code[i],
                        "risk_score": round(float(decisions.risk[i]), 6),
                        "factor_scores": {f: round(float(decisions.scores[i, j]), 6)
                                          for j, f in enumerate(decisions.factor_names)},
                        "versions": decisions.versions,
                    }
                start = end
        finally:
            scorers.close()
    return ReplayReport(uetr=target["uetr"], replayed_records=len(records), recorded=target, replayed=replayed,
                        differences=_compare(target, replayed))


def _compare(recorded: dict, replayed: dict) -> list[str]:
    out = []
    for key in ("decision", "reason_code"):
        if recorded[key] != replayed[key]:
            out.append(f"{key}: recorded {recorded[key]}, replayed {replayed[key]}")
    if abs(recorded["risk_score"] - replayed["risk_score"]) > TOLERANCE:
        out.append(f"risk_score: recorded {recorded['risk_score']}, replayed {replayed['risk_score']}")
    factors = set(recorded["factor_scores"]) | set(replayed["factor_scores"])
    for f in sorted(factors):
        a, b = recorded["factor_scores"].get(f), replayed["factor_scores"].get(f)
        if a is None or b is None or abs(a - b) > TOLERANCE:
            out.append(f"factor {f}: recorded {a}, replayed {b}")
    for key in ("model_version_hash", "rules_version", "sanctions_list_version"):
        if recorded.get(key) != replayed["versions"].get(key):
            out.append(f"{key}: recorded {recorded.get(key)}, replayed {replayed['versions'].get(key)}")
    return out
