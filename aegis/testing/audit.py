"""Conformance suite for ``aegis.audit`` sinks.

Provide ``plugin_name``, the ``plugin_config`` fixture and two out-of-band readers that
read the sink's storage directly, not through the plugin:

* ``read_records(self, plugin_config) -> list[dict]`` — every stored decision record, in order;
* ``read_dead_letters(self, plugin_config) -> list[dict]`` — stored rejects with at least
  ``origin`` and ``reason``.

Capability flags: ``supports_lookup`` (implements ``aegis_audit_lookup``).
"""

from __future__ import annotations

from typing import ClassVar

import orjson

from aegis.audit_chain import split_line
from aegis.audit_verify import verify_trail
from aegis.model import Reject
from aegis.testing.base import PluginTests
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


class AuditPluginTests(PluginTests):
    family = "audit"
    supports_lookup: ClassVar[bool] = True

    def read_records(self, plugin_config: dict) -> list[dict]:
        raise NotImplementedError("must be overridden: read stored records out of band")

    def read_dead_letters(self, plugin_config: dict) -> list[dict]:
        raise NotImplementedError("must be overridden: read stored dead letters out of band")

    def _decisions(self, harness: PluginHarness, n: int, seed: int = 5):
        return harness.decisions(harness.batch(transactions(n, seed=seed)))

    def test_write_is_durable_and_complete(self, harness, plugin_config):
        decisions = self._decisions(harness, 120)
        harness.audit(decisions)
        stored = self.read_records(plugin_config)
        assert [r["uetr"] for r in stored] == decisions.uetr
        expected = [orjson.loads(line) for line in decisions.lines()]
        for got, want in zip(stored, expected, strict=False):
            for key in ("decision", "reason_code", "risk_score", "risk_factors", "transaction", "timestamp"):
                assert got[key] == want[key], key

    def test_idempotent_on_uetr_within_a_run(self, harness, plugin_config):
        decisions = self._decisions(harness, 30)
        harness.audit(decisions)
        harness.audit(decisions)
        uetrs = [r["uetr"] for r in self.read_records(plugin_config)]
        assert len(uetrs) == len(set(uetrs)) == 30

    def test_idempotent_on_uetr_across_restarts(self, plugin_config, tmp_path):
        with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "s") as h:
            decisions = self._decisions(h, 40)
            h.audit(decisions)
        with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "s") as h:
            h.audit(decisions)
            more = self._decisions(h, 10, seed=77)
            h.audit(more)
        uetrs = [r["uetr"] for r in self.read_records(plugin_config)]
        assert uetrs == decisions.uetr + more.uetr

    def test_dead_letters_keep_reason_and_origin(self, harness, plugin_config):
        rejects = [Reject(origin="feed.jsonl:7", reason="amount: Input should be greater than 0",
                          payload=b'{"amount": "-1"}'),
                   Reject(origin="feed.jsonl:9", reason="not JSON", payload=b"\xff\xfe garbage")]
        harness.call("aegis_audit_dead_letter", rejects=rejects)
        stored = self.read_dead_letters(plugin_config)
        assert [(d["origin"], d["reason"]) for d in stored] == [(r.origin, r.reason) for r in rejects]

    def test_lookup_by_uetr(self, harness):
        if not self.supports_lookup:
            import pytest
            pytest.skip("plugin declares supports_lookup = False")
        decisions = self._decisions(harness, 25)
        harness.audit(decisions)
        target = decisions.uetr[13]
        found = harness.call("aegis_audit_lookup", uetr=target)
        assert found is not None and found["uetr"] == target
        assert found["decision"] == orjson.loads(decisions.lines()[13])["decision"]
        assert harness.call("aegis_audit_lookup", uetr="00000000-0000-4000-8000-000000000000") is None

    def test_chain_and_checkpoints_verify(self, harness):
        for seed in range(3):
            harness.audit(self._decisions(harness, 70, seed=seed))
        harness.trail().seal()
        lines = list(harness.call("aegis_audit_scan", after_seq=0))
        checkpoints = harness.call("aegis_audit_checkpoints")
        assert len(lines) == 210 and checkpoints
        report = verify_trail(lines, checkpoints, harness.public_key_pem)
        assert report.ok, [str(f) for f in report.findings]
        assert report.sealed_through == 210

    def test_scan_after_seq_and_head(self, harness):
        harness.audit(self._decisions(harness, 30))
        tail = list(harness.call("aegis_audit_scan", after_seq=25))
        assert [split_line(line)[1]["seq"] for line in tail] == [26, 27, 28, 29, 30]
        head = harness.call("aegis_audit_head")
        assert head.seq == 30 and head.hash == split_line(tail[-1])[1]["hash"]

    def test_chain_continues_across_restarts(self, plugin_config, tmp_path):
        with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "s") as h:
            h.audit(self._decisions(h, 20, seed=1))
            key = h.signing_key
        with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "s") as h:
            h.signing_key = key
            h.audit(self._decisions(h, 20, seed=2))
            h.trail().seal()
            lines = list(h.call("aegis_audit_scan", after_seq=0))
            report = verify_trail(lines, h.call("aegis_audit_checkpoints"), h.public_key_pem)
        assert report.ok, [str(f) for f in report.findings]
        assert report.records == 40 and report.sealed_through == 40
