"""The vault secrets backend passes the aegis.secrets conformance suite against a real OpenBao server."""

from __future__ import annotations

import pytest

from aegis.testing import SecretsPluginTests


class TestVaultSecretsConformance(SecretsPluginTests):
    plugin_name = "vault"
    signing_key = "audit"
    non_extractable_keys = True
    security_mode = "strict"  # Vault is a production backend: everything must work in strict mode

    @pytest.fixture
    def secrets_setup(self, bao, grant, token_file, secret_path, monkeypatch) -> tuple[dict, dict[str, str]]:
        for variable in ("VAULT_ADDR", "VAULT_TOKEN_FILE", "VAULT_SECRET_PATH", "VAULT_CACERT", "VAULT_TOKEN"):
            monkeypatch.delenv(variable, raising=False)
        secrets = {"db_password": "correct horse battery staple", "kafka.sasl-password": "s3cret"}
        path = secret_path(secrets)
        config = {"address": bao.address, "token_file": str(token_file(grant(path, "audit"))),
                  "secret_path": f"secret/data/{path}"}
        return config, secrets
