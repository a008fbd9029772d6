"""Conformance suite for ``aegis.secrets`` backends.

Provide ``plugin_name`` and a ``secrets_setup`` fixture that prepares the backend out of band
and returns ``(plugin_config, {secret_name: value, ...})``. ``signing_key`` names the key the
sign/verify checks use. Capability flags mirror the plugin's ``capabilities``:
``non_extractable_keys`` (private keys cannot leave the backend).
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from aegis.errors import SecretNotFound
from aegis.signing import verify
from aegis.testing.base import PluginTests


class SecretsPluginTests(PluginTests):
    family = "secrets"
    signing_key: ClassVar[str] = "audit"
    non_extractable_keys: ClassVar[bool] = False

    @pytest.fixture
    def secrets_setup(self, tmp_path, monkeypatch) -> tuple[dict, dict[str, str]]:
        raise NotImplementedError("must be overridden: prepare secrets, return (config, secrets)")

    @pytest.fixture
    def plugin_config(self, secrets_setup) -> dict:
        return secrets_setup[0]

    def test_resolves_known_secrets(self, harness, secrets_setup):
        for name, value in secrets_setup[1].items():
            assert harness.call("aegis_secrets_resolve", name=name) == value

    def test_unknown_secret_is_a_clear_error(self, harness):
        with pytest.raises(SecretNotFound) as excinfo:
            harness.call("aegis_secrets_resolve", name="no_such_secret_4711")
        assert "no_such_secret_4711" in str(excinfo.value)

    def test_sign_verify_round_trip(self, harness):
        data = b"checkpoint merkle root 0123456789abcdef"
        signature = harness.call("aegis_secrets_sign", data=data, key=self.signing_key)
        pem = harness.call("aegis_secrets_public_key", key=self.signing_key)
        assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
        assert verify(pem, data, signature)
        assert not verify(pem, data + b"!", signature)

    def test_public_key_is_stable(self, harness):
        first = harness.call("aegis_secrets_public_key", key=self.signing_key)
        assert harness.call("aegis_secrets_public_key", key=self.signing_key) == first

    def test_capabilities_declared(self, harness):
        caps = getattr(harness.plugin, "capabilities", None)
        assert isinstance(caps, dict), "secrets plugins declare a `capabilities` mapping"
        assert caps.get("non_extractable_keys", False) == self.non_extractable_keys
