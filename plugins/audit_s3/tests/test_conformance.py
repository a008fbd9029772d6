"""The kernel's audit conformance suite, run against the S3 sink and a real S3-compatible server."""

from __future__ import annotations

import pytest

from aegis.testing import AuditPluginTests


class TestS3AuditConformance(AuditPluginTests):
    plugin_name = "s3"

    @pytest.fixture
    def plugin_config(self, oob, locked_bucket):
        return oob.config(locked_bucket)

    @pytest.fixture(autouse=True)
    def _out_of_band(self, oob):
        self.oob = oob

    def read_records(self, plugin_config: dict) -> list[dict]:
        return self.oob.json_lines(plugin_config["bucket"], f"{plugin_config['prefix']}/records/")

    def read_dead_letters(self, plugin_config: dict) -> list[dict]:
        return self.oob.json_lines(plugin_config["bucket"], f"{plugin_config['prefix']}/dead-letters/")
