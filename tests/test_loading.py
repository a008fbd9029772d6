"""Named, fail-closed plugin loading."""

from __future__ import annotations

import sys

import pytest

from aegis._loading import find_plugin, installed_plugins, load_all, load_plugin_class
from aegis._manager import PluginHost
from aegis.config import parse_outline
from aegis.context import Context
from aegis.errors import PluginLoadError

from .conftest import RULES

SCORER = """
from pydantic import BaseModel, ConfigDict
import numpy as np
from aegis.hookspecs import hookimpl
from aegis.model import FactorScores, ScoreResult

class Plugin:
    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        weight: float = 1.0

    def __init__(self, config):
        self.config = config

    @hookimpl
    def aegis_scoring_score(self, batch):
        return ScoreResult({"ACME": FactorScores(np.zeros(batch.n), "RC_ACME")})
"""


def outline(scoring: str, **extra) -> dict:
    return {"secrets": {"plugin": "env"}, "ingress": [{"plugin": "file", "config": {"path": "x.jsonl"}}],
            "scoring": [{"plugin": scoring}], "audit": [{"plugin": "jsonl"}], "security_mode": "permissive",
            **extra}


def test_missing_plugin_names_family_and_lists_installed():
    config = parse_outline(outline("no_such_scorer"))
    with pytest.raises(PluginLoadError) as excinfo:
        load_all(config)
    message = str(excinfo.value)
    assert "scoring plugin 'no_such_scorer' is not installed" in message
    assert "aegis.scoring" in message
    assert "rules (aegis-plugin-scoring-rules 0.1.0)" in message


def test_broken_import_names_distribution_and_version(fake_dist):
    fake_dist("acme-broken", "2.3.4", {"aegis.scoring": {"broken": "acme_broken:Plugin"}},
              {"acme_broken": "raise RuntimeError('licence server unreachable')\n"})
    with pytest.raises(PluginLoadError) as excinfo:
        load_plugin_class("scoring", "broken")
    message = str(excinfo.value)
    assert "acme-broken 2.3.4" in message
    assert "licence server unreachable" in message
    assert "scoring plugin 'broken'" in message


def test_duplicate_plugin_is_an_error(fake_dist):
    fake_dist("acme-one", "1.0", {"aegis.scoring": {"twin": "acme_one:Plugin"}}, {"acme_one": SCORER})
    fake_dist("acme-two", "1.1", {"aegis.scoring": {"twin": "acme_two:Plugin"}}, {"acme_two": SCORER})
    with pytest.raises(PluginLoadError) as excinfo:
        find_plugin("scoring", "twin")
    assert "installed 2 times" in str(excinfo.value)
    assert "acme-one 1.0" in str(excinfo.value) and "acme-two 1.1" in str(excinfo.value)
    assert "acme_one" not in sys.modules and "acme_two" not in sys.modules


def test_unconfigured_plugin_is_never_imported(fake_dist):
    fake_dist("acme-idle", "1.0", {"aegis.scoring": {"idle": "acme_idle:Plugin"}},
              {"acme_idle": "raise SystemExit('imported although not configured')\n"})
    assert any(p.name == "idle" for p in installed_plugins("scoring"))
    load_all(parse_outline({**outline("rules"), "scoring": [RULES]}))
    assert "acme_idle" not in sys.modules


def test_plugin_without_config_class_is_refused(fake_dist):
    fake_dist("acme-noconf", "0.9", {"aegis.scoring": {"noconf": "acme_noconf:Plugin"}},
              {"acme_noconf": "class Plugin:\n    pass\n"})
    with pytest.raises(PluginLoadError, match=r"acme-noconf 0\.9 has no pydantic Config"):
        load_plugin_class("scoring", "noconf")


def test_misspelled_hook_is_caught(fake_dist):
    source = SCORER + "\n    def aegis_scoring_scor(self, batch):\n        return None\n"
    fake_dist("acme-typo", "1.0", {"aegis.scoring": {"typo": "acme_typo:Plugin"}}, {"acme_typo": source})
    config = parse_outline(outline("typo"))
    plugins = load_all(config)
    host = PluginHost(plugins, Context(security_mode="permissive"))
    with pytest.raises(PluginLoadError, match="aegis_scoring_scor"):
        host.build()


def test_plugin_missing_required_hook_is_refused(fake_dist):
    source = SCORER.replace("def aegis_scoring_score", "def score")
    fake_dist("acme-lazy", "1.0", {"aegis.scoring": {"lazy": "acme_lazy:Plugin"}}, {"acme_lazy": source})
    plugins = load_all(parse_outline(outline("lazy")))
    host = PluginHost(plugins, Context(security_mode="permissive"))
    with pytest.raises(PluginLoadError, match="does not implement aegis_scoring_score"):
        host.build()


def test_scoring_plugins_are_called_in_yaml_order(fake_dist, tmp_path):
    calls = []
    for name in ("zeta", "alpha", "mid"):
        fake_dist(f"acme-{name}", "1.0", {"aegis.scoring": {name: f"acme_{name}:Plugin"}},
                  {f"acme_{name}": SCORER.replace('"ACME"', f'"{name.upper()}"')})
    raw = {**outline("zeta"), "scoring": [{"plugin": "zeta"}, {"plugin": "alpha"}, {"plugin": "mid"}],
           "secrets": {"plugin": "env", "config": {"key_dir": str(tmp_path / "k")}}}
    host = PluginHost(load_all(parse_outline(raw)), Context(security_mode="permissive"))
    host.build()
    from aegis.decode import decode
    from aegis.model import AccountIndex, RawBatch
    from aegis.testing.samples import transactions
    batch, _ = decode(RawBatch("t", transactions(3), ["a", "b", "c"]), AccountIndex())
    results = host.score(batch)
    calls = [name for name, _ in results]
    assert calls == ["scoring[0] (zeta)", "scoring[1] (alpha)", "scoring[2] (mid)"]
    assert [next(iter(r.factors)) for _, r in results] == ["ZETA", "ALPHA", "MID"]
