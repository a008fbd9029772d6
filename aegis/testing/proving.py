"""Conformance suite for ``aegis.proving`` plugins.

Provide ``plugin_name`` and two fixtures:

* ``proving_setup(self, tmp_path) -> (plugin_config, companions)`` — prepares the plugin's keys out
  of band and returns its config section plus the other plugins its host needs, as
  ``(family, name, config)`` tuples (normally the secrets plugin that signed the verification key);
* ``valid_proof(self, proving_setup) -> (proof, public_inputs)`` — a proof of a true statement under
  those keys, made out of band (not through the plugin's hooks), in snarkjs JSON form.

Capability flags: ``proves_investigate`` (INVESTIGATE decisions are proved too under the given
config) and ``proof_timeout`` (seconds to wait for a queued proof).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from aegis.decide import Decisions
from aegis.model import Decision, FactorScores, ScoreResult
from aegis.testing.base import PluginTests
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions

PRIVATE_KEYS = {"opening", "salt", "features", "witness"}


class ProvingPluginTests(PluginTests):
    family = "proving"
    proves_investigate: ClassVar[bool] = False
    proof_timeout: ClassVar[float] = 120.0

    @pytest.fixture
    def proving_setup(self, tmp_path) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
        raise NotImplementedError("must be overridden: prepare keys, return (plugin_config, companions)")

    @pytest.fixture
    def valid_proof(self, proving_setup) -> tuple[dict, list[str]]:
        raise NotImplementedError("must be overridden: return (proof, public_inputs) made out of band")

    @pytest.fixture
    def plugin_config(self, proving_setup) -> dict[str, Any]:
        return proving_setup[0]

    @pytest.fixture
    def harness(self, proving_setup, tmp_path) -> Iterator[PluginHarness]:
        config, companions = proving_setup
        with PluginHarness(self.family, self.plugin_name, config, tmp_path / "state",
                           security_mode=self.security_mode, companions=companions) as h:
            yield h

    # -- verification ---------------------------------------------------------

    def test_verify_accepts_a_valid_proof(self, harness, valid_proof):
        proof, public = valid_proof
        assert harness.call("aegis_proving_verify", proof=proof, public_inputs=public) is True

    def test_verify_rejects_a_changed_public_input(self, harness, valid_proof):
        proof, public = valid_proof
        for i in (0, len(public) - 1):
            changed = list(public)
            changed[i] = str(int(changed[i]) + 1)
            assert harness.call("aegis_proving_verify", proof=proof, public_inputs=changed) is False, i

    def test_verify_rejects_a_changed_proof(self, harness, valid_proof):
        proof, public = valid_proof
        swapped = dict(proof, pi_a=proof["pi_c"], pi_c=proof["pi_a"])
        assert harness.call("aegis_proving_verify", proof=swapped, public_inputs=public) is False
        moved = copy.deepcopy(proof)
        moved["pi_a"][0] = str(int(moved["pi_a"][0]) + 1)
        assert harness.call("aegis_proving_verify", proof=moved, public_inputs=public) is False

    def test_verify_answers_malformed_input_with_false(self, harness, valid_proof):
        proof, public = valid_proof
        for bad_proof, bad_public in (({}, public), (proof, ["not a number"]), (proof, public[:-1]),
                                      ({"pi_a": "x", "pi_b": None, "pi_c": []}, public)):
            assert harness.call("aegis_proving_verify", proof=bad_proof, public_inputs=bad_public) is False

    # -- the queue -------------------------------------------------------------

    def _decisions(self, harness: PluginHarness, risks: list[float]) -> Decisions:
        batch = harness.batch(transactions(len(risks), seed=11))
        result = ScoreResult(factors={"SANCTIONS": FactorScores(np.asarray(risks, dtype=np.float64),
                                                                "RC_SANCTIONS_MATCH")},
                             versions={"rules_version": "conformance"})
        return harness.decisions(batch, result)

    def _wait(self, harness: PluginHarness, uetrs: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        deadline = time.monotonic() + self.proof_timeout
        while len(found) < len(uetrs) and time.monotonic() < deadline:
            for u in uetrs:
                if u not in found and (row := harness.call("aegis_proving_lookup", uetr=u)) is not None:
                    found[u] = row
            time.sleep(0.05)
        return found

    def test_lookup_of_an_unknown_uetr_is_none(self, harness):
        assert harness.call("aegis_proving_lookup", uetr="00000000-0000-4000-8000-000000000000") is None

    def test_submit_without_blocks_queues_nothing(self, harness):
        decisions = self._decisions(harness, [0.0] * 6)
        assert set(decisions.decision.tolist()) == {int(Decision.CLEAR)}
        assert harness.call("aegis_proving_submit", decisions=decisions) == 0

    def test_blocked_decisions_get_proofs_that_verify(self, harness):
        decisions = self._decisions(harness, [1.0, 0.0, 0.6, 1.0, 0.0])
        codes = decisions.decision.tolist()
        assert codes.count(int(Decision.BLOCK)) == 2 and int(Decision.INVESTIGATE) in codes
        proved = {int(Decision.BLOCK)} | ({int(Decision.INVESTIGATE)} if self.proves_investigate else set())
        wanted = [u for u, c in zip(decisions.uetr, codes, strict=True) if c in proved]
        refs = harness.call("aegis_proving_reference", decisions=decisions)
        if refs is not None:  # the optional hook: references exactly for the decisions it will prove
            assert len(refs) == len(codes)
            assert [r is not None for r in refs] == [c in proved for c in codes], refs
            assert len({r for r in refs if r is not None}) == len(wanted), "references must be distinct"
        queued = harness.call("aegis_proving_submit", decisions=decisions)
        assert queued == len(wanted)
        rows = self._wait(harness, wanted)
        assert set(rows) == set(wanted), f"no proof within {self.proof_timeout} s for {set(wanted) - set(rows)}"
        for row in rows.values():
            assert not PRIVATE_KEYS & set(row), f"lookup exposes private data: {sorted(PRIVATE_KEYS & set(row))}"
            assert harness.call("aegis_proving_verify", proof=row["proof"],
                                public_inputs=row["public_inputs"]) is True
        for u, c in zip(decisions.uetr, codes, strict=True):
            if c not in proved:
                assert harness.call("aegis_proving_lookup", uetr=u) is None, f"{u} ({c}) was proved"


__all__ = ["ProvingPluginTests"]
