"""Conformance suite for ``aegis.scoring`` plugins.

Provide ``plugin_name`` and the ``plugin_config`` fixture. Capability flags:

* ``supports_reload`` — the plugin implements ``aegis_reload`` (then also provide
  ``replace_artefact(self, plugin_config, valid: bool)`` that rewrites its file out of band).
* ``stateful`` — scores depend on earlier batches (velocity, history); the determinism check
  then compares two fresh instances instead of two calls on one.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from aegis.decide import DecisionConfig, decide
from aegis.model import Decision, ScoreResult
from aegis.testing.base import PluginTests
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


class ScoringPluginTests(PluginTests):
    family = "scoring"
    supports_reload: ClassVar[bool] = False
    stateful: ClassVar[bool] = True

    def test_scores_every_transaction_in_unit_interval(self, harness):
        batch = harness.batch(transactions(257))
        result = harness.score(batch)
        assert isinstance(result, ScoreResult)
        assert result.factors, "a scoring plugin returns at least one factor"
        for name, fs in result.factors.items():
            assert name.isupper() and name.replace("_", "").isalnum(), name
            assert fs.reason_code.startswith("RC_"), fs.reason_code
            scores = np.asarray(fs.scores)
            assert scores.shape == (batch.n,)
            assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
            if fs.details is not None:
                assert len(fs.details) == batch.n
            if fs.hard_block is not None:
                assert np.asarray(fs.hard_block).shape == (batch.n,)

    def test_versions_are_strings(self, harness):
        result = harness.score(harness.batch(transactions(8)))
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in result.versions.items())

    def test_batch_is_not_modified(self, harness):
        batch = harness.batch(transactions(64))
        before = (batch.amount.copy(), batch.debtor_account.copy(), batch.created_at_ns.copy(), list(batch.uetr))
        harness.score(batch)
        assert np.array_equal(before[0], batch.amount)
        assert np.array_equal(before[1], batch.debtor_account)
        assert np.array_equal(before[2], batch.created_at_ns)
        assert before[3] == batch.uetr

    def test_single_transaction_batch(self, harness):
        result = harness.score(harness.batch(transactions(1)))
        assert all(np.asarray(fs.scores).shape == (1,) for fs in result.factors.values())

    def test_deterministic(self, harness, plugin_config, tmp_path):
        txs = transactions(200, seed=11)
        first = harness.score(harness.batch(txs))
        if self.stateful:
            with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "second") as other:
                second = other.score(other.batch(txs))
        else:
            second = harness.score(harness.batch(txs))
        assert first.factors.keys() == second.factors.keys()
        for name in first.factors:
            assert np.allclose(first.factors[name].scores, second.factors[name].scores), name

    def test_decides_through_the_kernel(self, harness):
        batch = harness.batch(transactions(50))
        decisions = decide(batch, [(self.plugin_name, harness.score(batch))], DecisionConfig())
        assert len(decisions.lines()) == batch.n
        assert set(np.unique(decisions.decision)) <= {Decision.CLEAR, Decision.INVESTIGATE, Decision.BLOCK}

    def test_reload_refuses_bad_artefact_and_keeps_old(self, harness, plugin_config):
        if not self.supports_reload:
            pytest.skip("plugin declares supports_reload = False")
        batch = harness.batch(transactions(20))
        before = harness.score(batch)
        self.replace_artefact(plugin_config, valid=False)
        reports = harness.host.reload()
        assert reports and not any(r.ok for r in reports), reports
        after = harness.score(harness.batch(transactions(20, seed=99)))
        assert before.versions == after.versions

    def test_reload_swaps_valid_artefact(self, harness, plugin_config):
        if not self.supports_reload:
            pytest.skip("plugin declares supports_reload = False")
        before = harness.score(harness.batch(transactions(5))).versions
        self.replace_artefact(plugin_config, valid=True)
        reports = harness.host.reload()
        assert reports and all(r.ok for r in reports), reports
        assert any(r.old_version != r.new_version for r in reports)
        after = harness.score(harness.batch(transactions(5, seed=3))).versions
        assert after != before

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        raise NotImplementedError("must be overridden when supports_reload = True")
