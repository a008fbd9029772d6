"""Aegis conformance suite for plugin authors.

This module is a contract with third parties. Each family has one base class; a plugin's
test module subclasses it and provides the fixtures the class docstring asks for::

    from aegis.testing import ScoringPluginTests

    class TestMyScorer(ScoringPluginTests):
        plugin_name = "myscorer"

        @pytest.fixture
        def plugin_config(self, tmp_path):
            return {"threshold": 0.7}

Opt in from your project's root ``conftest.py`` so pytest rewrites the suite's asserts::

    import pytest
    pytest.register_assert_rewrite("aegis.testing")

Capability flags (class attributes such as ``supports_reload``) switch optional checks on;
core checks never skip. Test names are part of the contract: they are not renamed lightly,
so a vendor can refer to them in a certification report. Our own plugins consume the suite
exactly as a vendor does.
"""

from aegis.testing.audit import AuditPluginTests
from aegis.testing.harness import PluginHarness
from aegis.testing.ingress import IngressPluginTests
from aegis.testing.metrics import MetricsPluginTests
from aegis.testing.proving import ProvingPluginTests
from aegis.testing.scoring import ScoringPluginTests
from aegis.testing.secrets import SecretsPluginTests

__all__ = [
    "AuditPluginTests",
    "IngressPluginTests",
    "MetricsPluginTests",
    "PluginHarness",
    "ProvingPluginTests",
    "ScoringPluginTests",
    "SecretsPluginTests",
]
