"""Kernel test fixtures: installable throw-away plugin distributions and deployment files."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AEGIS_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
PAYSIM = DATA / "fraud" / "paysim"
FATF = DATA / "country_risk" / "fatf_lists.csv"
RULES = {"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}}}


@pytest.fixture
def fake_dist(tmp_path, monkeypatch) -> Callable[..., Path]:
    """Install a distribution for real (module + ``.dist-info`` with entry points) on sys.path.

    ``fake_dist("acme-plugin", "1.2.3", {"aegis.scoring": {"acme": "acme_mod:Plugin"}}, {"acme_mod": src})``
    """
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    created: list[str] = []

    def make(dist: str, version: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]) -> Path:
        for name, source in modules.items():
            (site / f"{name}.py").write_text(textwrap.dedent(source))
            created.append(name)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items()) + "\n"
                      for group, items in entry_points.items())
        (info / "entry_points.txt").write_text(eps)
        return site

    yield make
    for name in created:
        sys.modules.pop(name, None)


@pytest.fixture
def write_config(tmp_path) -> Callable[[dict], Path]:
    def write(data: dict, name: str = "aegis.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path
    return write


def deployment(tmp_path: Path, source: Path, fmt: str = "jsonl", scoring: list | None = None,
               metrics: list | None = None, **extra) -> dict:
    """A complete deployment using the first-party plugins, writing under ``tmp_path``."""
    return {
        "deployment": "test",
        "security_mode": "permissive",
        "secrets": {"plugin": "env", "config": {"key_dir": str(tmp_path / "keys")}},
        "ingress": [{"plugin": "file", "config": {"path": str(source), "format": fmt}}],
        "scoring": scoring if scoring is not None else [RULES],
        "audit": [{"plugin": "jsonl", "config": {"path": str(tmp_path / "audit" / "audit.jsonl")}}],
        "metrics": metrics or [],
        "pipeline": {"batch_size": 256, "state_dir": str(tmp_path / "state")},
        **extra,
    }
