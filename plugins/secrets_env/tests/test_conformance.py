"""The env secrets backend passes the aegis.secrets conformance suite, as a vendor's plugin would."""

from __future__ import annotations

import pytest

from aegis.testing import SecretsPluginTests


class TestEnvSecretsConformance(SecretsPluginTests):
    plugin_name = "env"
    signing_key = "audit"
    non_extractable_keys = False

    @pytest.fixture
    def secrets_setup(self, tmp_path, monkeypatch) -> tuple[dict, dict[str, str]]:
        secrets = {"db_password": "correct horse battery staple", "kafka.sasl-password": "s3cret"}
        monkeypatch.setenv("CONFORMANCE_SECRET_DB_PASSWORD", secrets["db_password"])
        monkeypatch.setenv("CONFORMANCE_SECRET_KAFKA_SASL_PASSWORD", secrets["kafka.sasl-password"])
        monkeypatch.delenv("CONFORMANCE_SECRET_NO_SUCH_SECRET_4711", raising=False)
        return {"prefix": "CONFORMANCE_SECRET_", "key_dir": str(tmp_path / "keys")}, secrets
