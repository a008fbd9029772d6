"""Shared fixtures: one set of keys per session, snarkjs from the plugin's node_modules, a host."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.keys import ProvingKey

from aegis._loading import LoadedPlugin, load_plugin_class
from aegis._manager import PluginHost
from aegis.context import Context

PLUGIN_DIR = Path(__file__).resolve().parents[1]
SNARKJS = PLUGIN_DIR / "node_modules" / ".bin" / "snarkjs"
PTAU = Path(__file__).resolve().parent / "data" / "pot10_demo.ptau"
INSTALL = f"npm ci --prefix {PLUGIN_DIR} --no-audit --no-fund"


@pytest.fixture(scope="session")
def snarkjs() -> Path:
    """The snarkjs CLI; a missing install fails the test (it is part of the test command)."""
    if not SNARKJS.exists() or shutil.which("node") is None:
        pytest.fail(f"snarkjs is not installed: run `{INSTALL}` (needs node and npm)")
    return SNARKJS


@pytest.fixture(scope="session")
def plugin_dir() -> Path:
    return PLUGIN_DIR


@pytest.fixture(scope="session")
def ptau() -> Path:
    """A 2^10 powers-of-tau file made with snarkjs for tests only (phase 1 of a demo ceremony)."""
    return PTAU


@pytest.fixture(scope="session")
def run_snarkjs(snarkjs: Path):
    def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run([str(snarkjs), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                              timeout=120)
    return run


@pytest.fixture(scope="session")
def toxic() -> ToxicWaste:
    return ToxicWaste.from_entropy(b"test session")


@pytest.fixture(scope="session")
def pk(toxic: ToxicWaste) -> ProvingKey:
    return generate(risk_signal_r1cs(), toxic)


@pytest.fixture
def signal() -> RiskSignal:
    """A statement that holds: score 828 000 ≥ threshold 800 000."""
    return RiskSignal(features=tuple(range(100, 108)), salt=987654321, weights=(1000,) * 8, threshold=800_000)


def host_with(tmp_path: Path, proving_config: dict | None) -> PluginHost:
    """A plugin host with the env secrets plugin (keys under ``tmp_path``) and optionally ``groth16``."""
    specs = [("secrets", "env", {"key_dir": str(tmp_path / "keys")})]
    if proving_config is not None:
        specs.append(("proving", "groth16", proving_config))
    loaded = []
    for family, name, config in specs:
        cls, info = load_plugin_class(family, name)
        loaded.append(LoadedPlugin(family, None, name, cls, info, config, cls.Config.model_validate(config)))
    context = Context(deployment="zkp-test", security_mode="permissive", secrets_mode="env",
                      state_dir=tmp_path / "state", log=logging.getLogger("aegis.test"))
    host = PluginHost(loaded, context)
    host.context = replace(context, host=host)
    host.build()
    return host


@pytest.fixture
def secrets_host(tmp_path: Path) -> Iterator[PluginHost]:
    host = host_with(tmp_path, None)
    host.startup()
    yield host
    host.shutdown()


@pytest.fixture
def make_host(tmp_path: Path):
    """``make_host(config)``: a built host with env secrets and the groth16 plugin configured by ``config``."""
    return lambda config: host_with(tmp_path, config)
