"""The kernel's ingress conformance suite, run against the file source as a vendor would."""

from __future__ import annotations

from aegis.testing import IngressPluginTests


class TestFileIngressConformance(IngressPluginTests):
    plugin_name = "file"

    def source_config(self, tmp_path, payloads: list[bytes]) -> dict:
        path = tmp_path / "conformance.jsonl"
        path.write_bytes(b"".join(p + b"\n" for p in payloads))
        return {"path": str(path)}
