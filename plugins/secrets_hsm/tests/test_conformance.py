"""The hsm secrets backend passes the aegis.secrets conformance suite against a real SoftHSM2 token."""

from __future__ import annotations

import pytest

from aegis.testing import SecretsPluginTests


class TestHsmSecretsConformance(SecretsPluginTests):
    plugin_name = "hsm"
    signing_key = "audit"
    non_extractable_keys = True

    @pytest.fixture
    def secrets_setup(self, softhsm) -> tuple[dict, dict[str, str]]:
        return softhsm.config(), softhsm.secrets


class TestHsmSecretsConformanceRsa(TestHsmSecretsConformance):
    """The same with an RSA-2048 key (RSA-PSS signatures)."""

    signing_key = "audit-rsa"

    @pytest.fixture
    def secrets_setup(self, softhsm) -> tuple[dict, dict[str, str]]:
        return softhsm.config(key_type="rsa-2048", self_test_key="audit-rsa"), softhsm.secrets
