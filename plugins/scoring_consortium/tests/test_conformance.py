"""The kernel's scoring conformance suite, run on the consortium plugin as a vendor would run it."""

from __future__ import annotations

import pytest

from aegis.testing import ScoringPluginTests
from aegis.testing.samples import german_iban


class TestConsortiumConformance(ScoringPluginTests):
    plugin_name = "consortium"
    supports_reload = True
    stateful = False

    @pytest.fixture
    def plugin_config(self, consortium):
        # accounts the sample transactions use: some of their payments get flagged
        consortium.append(consortium.signal("ACC-000003"), consortium.signal(german_iban(11), role="debtor"))
        self.consortium = consortium
        return consortium.config()

    def replace_artefact(self, plugin_config: dict, valid: bool) -> None:
        signal = self.consortium.signal("ACC-000004")
        if not valid:  # the threshold lowered after signing: the signature no longer verifies
            signal["public_inputs"][0] = "1"
        self.consortium.append(signal)
