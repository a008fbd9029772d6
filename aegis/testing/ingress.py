"""Conformance suite for ``aegis.ingress`` sources.

Provide ``plugin_name`` and ``source_config(self, tmp_path, payloads: list[bytes]) -> dict``:
put the given JSON transaction documents into the source out of band (write a file, produce
to a topic, ...) and return the plugin's config section reading them.

Capability flags: ``finite`` (the source ends and marks its last batch ``final``),
``resumable`` (acknowledged records are not delivered again after a restart). A source that
implements the optional ``aegis_ingress_poll_inline`` must deliver through it as through
``aegis_ingress_poll``.
"""

from __future__ import annotations

import time
from typing import ClassVar

import orjson
import pytest

from aegis.decode import decode
from aegis.model import AccountIndex, RawBatch
from aegis.testing.base import PluginTests
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def _drain(h: PluginHarness, max_records: int = 64, limit: int | None = None,
           timeout: float = 20.0, hook: str = "aegis_ingress_poll") -> list[RawBatch]:
    """Poll (with ``hook``) until a final batch, ``limit`` records, or ``timeout``."""
    batches: list[RawBatch] = []
    seen = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = h.call(hook, max_records=max_records)
        if raw is None:
            time.sleep(0.01)
            continue
        batches.append(raw)
        seen += len(raw.payloads) + len(raw.rejects)
        if raw.final or (limit is not None and seen >= limit):
            break
    return batches


class IngressPluginTests(PluginTests):
    family = "ingress"
    finite: ClassVar[bool] = True
    resumable: ClassVar[bool] = True

    def source_config(self, tmp_path, payloads: list[bytes]) -> dict:
        raise NotImplementedError("must be overridden: write payloads into the source, return config")

    @pytest.fixture
    def sample(self) -> list[dict]:
        return transactions(300, seed=21)

    @pytest.fixture
    def plugin_config(self, tmp_path, sample) -> dict:
        return self.source_config(tmp_path, [orjson.dumps(t) for t in sample])

    def test_delivers_every_record_once_in_order(self, harness, sample):
        self._check_delivery(harness, sample, "aegis_ingress_poll")

    def test_inline_poll_delivers_every_record_once_in_order(self, harness, sample):
        if not callable(getattr(harness.plugin, "aegis_ingress_poll_inline", None)):
            pytest.skip("plugin does not implement aegis_ingress_poll_inline")
        self._check_delivery(harness, sample, "aegis_ingress_poll_inline")

    @staticmethod
    def _check_delivery(harness: PluginHarness, sample: list[dict], hook: str) -> None:
        batches = _drain(harness, limit=len(sample), hook=hook)
        accounts = AccountIndex()
        uetrs = []
        for raw in batches:
            batch, rejects = decode(raw, accounts)
            assert not rejects, rejects[:3]
            uetrs += batch.uetr if batch is not None else []
            harness.call("aegis_ingress_ack", batch=raw, decisions=None, rejects=[])
        assert uetrs == [t["uetr"] for t in sample]

    def test_respects_max_records(self, harness):
        raw = None
        for _ in range(200):
            raw = harness.call("aegis_ingress_poll", max_records=7)
            if raw is not None:
                break
            time.sleep(0.01)
        assert raw is not None and 0 < len(raw.payloads) <= 7

    def test_origins_name_each_record(self, harness):
        batches = _drain(harness, max_records=50, limit=50)
        raw = batches[0]
        assert len(raw.origins) == len(raw.payloads)
        assert all(isinstance(o, str) and o for o in raw.origins)
        assert len(set(raw.origins)) == len(raw.origins)

    def test_final_batch_marks_end(self, harness, sample):
        if not self.finite:
            pytest.skip("plugin declares finite = False")
        batches = _drain(harness, max_records=100)
        assert batches and batches[-1].final
        assert sum(len(b.payloads) for b in batches) == len(sample)

    def test_acknowledged_records_are_not_redelivered(self, plugin_config, sample, tmp_path):
        if not self.resumable:
            pytest.skip("plugin declares resumable = False")
        state = tmp_path / "resume-state"
        with PluginHarness(self.family, self.plugin_name, plugin_config, state) as h:
            first = _drain(h, max_records=40, limit=80)
            acked = first[0]
            h.call("aegis_ingress_ack", batch=acked, decisions=None, rejects=[])
        with PluginHarness(self.family, self.plugin_name, plugin_config, state) as h:
            rest = _drain(h, max_records=100, limit=len(sample) - len(acked.payloads))
        accounts = AccountIndex()
        delivered = [u for raw in rest for u in (decode(raw, accounts)[0] or type("E", (), {"uetr": []})).uetr]
        skipped = len(acked.payloads)
        assert delivered[0] == sample[skipped]["uetr"]
        assert delivered == [t["uetr"] for t in sample[skipped:]]
