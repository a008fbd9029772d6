"""What every family suite shares: the plugin under test and its harness."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from aegis._loading import find_plugin
from aegis.testing.harness import PluginHarness


class PluginTests:
    """Base of the family suites. Subclasses set ``plugin_name`` and provide ``plugin_config``."""

    family: ClassVar[str]
    plugin_name: ClassVar[str]
    security_mode: ClassVar[str] = "permissive"

    @pytest.fixture
    def plugin_config(self, tmp_path) -> dict[str, Any]:
        """The plugin's YAML section for a test; must be overridden."""
        raise NotImplementedError("must be overridden: return the plugin's config section")

    @pytest.fixture
    def harness(self, plugin_config, tmp_path) -> Iterator[PluginHarness]:
        with PluginHarness(self.family, self.plugin_name, plugin_config, tmp_path / "state",
                           security_mode=self.security_mode) as h:
            yield h

    # -- core checks every plugin passes -----------------------------------

    def test_installed_with_distribution_and_version(self):
        info = find_plugin(self.family, self.plugin_name)
        assert info.distribution and info.distribution != "?"
        assert info.version and info.version != "?"

    def test_config_forbids_unknown_keys(self, plugin_config):
        from pydantic import ValidationError

        from aegis._loading import load_plugin_class
        cls, _ = load_plugin_class(self.family, self.plugin_name)
        with pytest.raises(ValidationError) as excinfo:
            cls.Config.model_validate({**plugin_config, "no_such_option_xyz": 1})
        assert "no_such_option_xyz" in str(excinfo.value)

    def test_config_fields_are_described(self):
        from aegis._loading import load_plugin_class
        cls, _ = load_plugin_class(self.family, self.plugin_name)
        undocumented = [n for n, f in cls.Config.model_fields.items() if not f.description]
        assert not undocumented, f"Config fields without Field(description=...): {undocumented}"

    def test_hooks_are_known_and_of_the_family(self, harness):
        from aegis import hookspecs
        from aegis._manager import implemented_hooks
        known = set(hookspecs.hook_names())
        hooks = implemented_hooks(harness.plugin)
        assert set(hooks) <= known
        own = [h for h in hooks if h not in hookspecs.LIFECYCLE_HOOKS]
        foreign = [h for h in own if not h.startswith(f"aegis_{self.family}_")]
        assert not foreign, f"{self.family} plugin implements other families' hooks: {foreign}"

    def test_self_test_passes(self, harness):
        results = harness.host.self_test()
        failed = [r for r in results if not r.ok]
        assert not failed, failed


__all__ = ["PluginTests"]
