"""Run one plugin through the real loading path, outside a full deployment.

The harness finds the plugin by its entry point (so packaging is tested too),
validates its config with its own ``Config``, constructs and registers it with a
:class:`~aegis._manager.PluginHost`, and calls ``aegis_startup``; leaving the
``with`` block calls ``aegis_shutdown``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from aegis._loading import LoadedPlugin, _placeholder_secrets, load_plugin_class
from aegis._manager import PluginHost
from aegis.config import PluginRef
from aegis.context import Context
from aegis.decide import DecisionConfig, Decisions, decide
from aegis.decode import decode
from aegis.model import Batch, RawBatch, ScoreResult
from aegis.testing.signer import Signer


def _loaded(family: str, name: str, config: dict[str, Any]) -> LoadedPlugin:
    cls, info = load_plugin_class(family, name)
    ref = PluginRef(plugin=name, config=config)
    return LoadedPlugin(family, 0 if family not in ("secrets", "proving") else None, name, cls, info,
                        ref.config, cls.Config.model_validate(_placeholder_secrets(config)))


class PluginHarness:
    """``with PluginHarness("scoring", "rules", {...}, tmp_path) as h: h.call(...)``.

    :param family: the plugin's family (``scoring``, ``audit``, ...).
    :param name: its entry-point name.
    :param config: its YAML section (a mapping).
    :param state_dir: where it may keep state (a test's ``tmp_path``).
    :param security_mode: the context's security mode.
    :param companions: other plugins the one under test needs in its host, as
        ``(family, name, config)`` (e.g. the secrets plugin a proving plugin signs with).
    """

    def __init__(self, family: str, name: str, config: dict[str, Any], state_dir: Path,
                 security_mode: str = "permissive",
                 companions: Sequence[tuple[str, str, dict[str, Any]]] = ()):
        self.loaded = _loaded(family, name, config)
        others = [_loaded(f, n, c) for f, n, c in companions]
        secrets = [lp.name for lp in [self.loaded, *others] if lp.family == "secrets"]
        context = Context(deployment="conformance", security_mode=security_mode,
                          secrets_mode=secrets[0] if secrets else name,
                          state_dir=Path(state_dir), log=logging.getLogger("aegis.testing"))
        self.host = PluginHost([*others, self.loaded], context)
        self.host.context = replace(context, host=self.host)
        self.accounts = self.host.accounts  # the host's one index: ids stay meaningful to state save/restore
        self._trail = None
        self.signer = Signer()

    @property
    def plugin(self) -> Any:
        return self.loaded.instance

    @property
    def context(self) -> Context:
        return self.host.context

    def __enter__(self) -> PluginHarness:
        """Build as a deployment does (``$secret`` references resolved by a secrets companion), then start."""
        self.host.build()
        self.host.startup()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._trail is not None and exc[0] is None:
            self._trail.seal()
        self.host.shutdown()

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on the plugin; non-firstresult hooks give their single result."""
        result = self.host.call(hook, self.loaded, **kwargs)
        spec = getattr(self.host.pm.hook, hook).spec
        if spec is not None and not spec.opts.get("firstresult"):
            return result[0] if result else None
        return result

    # -- helpers the family suites share ------------------------------------

    def batch(self, transactions: list[dict[str, Any]]) -> Batch:
        raw = RawBatch(source="conformance", payloads=transactions,
                       origins=[f"conformance:{i}" for i in range(len(transactions))])
        batch, rejects = decode(raw, self.accounts)
        assert not rejects, f"test transactions were rejected: {rejects}"
        assert batch is not None
        return batch

    def score(self, batch: Batch) -> ScoreResult:
        return self.call("aegis_scoring_score", batch=batch)

    @staticmethod
    def decisions(batch: Batch, result: ScoreResult | None = None,
                  config: DecisionConfig | None = None) -> Decisions:
        """Decisions for ``batch`` (from ``result`` or a constant low score) for sink tests."""
        if result is None:
            from aegis.model import FactorScores
            result = ScoreResult(factors={"AMOUNT": FactorScores(np.linspace(0, 1, batch.n), "RC_AMOUNT_ANOMALY")},
                                 versions={"rules_version": "conformance"})
        return decide(batch, [("conformance", result)], config or DecisionConfig())

    # -- audit sinks: the kernel's trail (idempotency, chain, checkpoints) with a throwaway key --

    @property
    def signing_key(self):
        """The private key checkpoints are signed with (set it to keep one key across restarts)."""
        return self.signer.key

    @signing_key.setter
    def signing_key(self, key) -> None:
        self.signer = Signer(key)

    @property
    def public_key_pem(self) -> bytes:
        return self.signer.pem

    def sign(self, data: bytes) -> bytes:
        return self.signer.sign(data)

    def trail(self, checkpoint_every: int = 50):
        """The kernel's :class:`~aegis.audit_trail.AuditTrail` over this sink (opened on first use)."""
        if self._trail is None:
            from aegis.audit_trail import AuditTrail
            from aegis.config import AuditTrailConfig
            self._trail = AuditTrail(self.host, AuditTrailConfig(checkpoint_every=checkpoint_every), sign=self.sign)
            self._trail.open()
        return self._trail

    def audit(self, decisions: Decisions) -> None:
        """Write ``decisions`` through the kernel's trail, as the pipeline does."""
        self.trail().write(decisions)
