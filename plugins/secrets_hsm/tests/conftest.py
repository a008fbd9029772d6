"""A real SoftHSM2 token for these tests, kept in a temporary directory.

``SOFTHSM2_CONF`` points the library at a token directory of this test session only, so
the system token store is never touched. The token ``AegisToken`` (user PIN 1234) is
provisioned once with the signing keys and secrets the tests share.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from aegis_secrets_hsm.data_objects import store_secret
from aegis_secrets_hsm.keys import generate_signing_key
from aegis_secrets_hsm.session import TokenSession

from aegis.testing import PluginHarness

LIBRARY = Path("/usr/lib/softhsm/libsofthsm2.so")
LABEL = "AegisToken"
PIN = "1234"
SO_PIN = "5678"
#: Signing keys generated at provisioning: name → key type.
KEYS = {"audit": "ec-p256", "timestamp": "ec-p256", "audit-rsa": "rsa-2048"}
SECRETS = {"db_password": "correct horse battery staple", "kafka.sasl-password": "s3cret-kafka-Ü"}


@dataclass(frozen=True)
class SoftHsm:
    """The test token: where it is and how to reach it."""

    library: Path
    label: str
    pin: str
    pin_file: Path
    conf: Path
    keys: dict[str, str] = field(default_factory=lambda: dict(KEYS))
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))

    def config(self, **overrides: Any) -> dict[str, Any]:
        """The plugin's config section for this token."""
        return {"library": str(self.library), "token_label": self.label, "pin_file": str(self.pin_file),
                **{k: str(v) if isinstance(v, Path) else v for k, v in overrides.items()}}

    def environ(self, **overrides: str) -> dict[str, str]:
        """The operator guide's environment variables for this token (for ``aegis hsm``)."""
        return {"SOFTHSM2_CONF": str(self.conf), "AEGIS_HSM_LIB": str(self.library), "AEGIS_HSM_TOKEN": self.label,
                "AEGIS_HSM_PIN_FILE": str(self.pin_file), "AEGIS_SECURITY_MODE": "strict", **overrides}

    @contextmanager
    def raw_session(self) -> Iterator[pkcs11.Session]:
        """A logged-in python-pkcs11 session for out-of-band setup and attacks, bypassing the plugin."""
        token = pkcs11.lib(str(self.library)).get_token(token_label=self.label)
        try:
            session = token.open(rw=True, user_pin=self.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:  # a plugin session of this process is logged in
            session = token.open(rw=True)
        try:
            yield session
        finally:
            session.close()


def _provision(hsm: SoftHsm) -> None:
    token = TokenSession(hsm.library, hsm.label, hsm.pin_file, strict=True, log=logging.getLogger("tests.softhsm"))
    try:
        def setup(session: pkcs11.Session) -> None:
            for name, kind in hsm.keys.items():
                generate_signing_key(session, token.ref, name, kind, token.mechanisms)  # type: ignore[arg-type]
            for name, value in hsm.secrets.items():
                store_secret(session, token.ref, "aegis-secret:", name, value, replace=False)

        token.run(setup, "provisioning the test token")
    finally:
        token.close()


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """A fresh SoftHSM2 token in a temporary directory, provisioned with :data:`KEYS` and :data:`SECRETS`."""
    util = shutil.which("softhsm2-util")
    if util is None or not LIBRARY.is_file():
        pytest.fail(f"SoftHSM2 is not installed (need softhsm2-util on PATH and {LIBRARY}): the hsm plugin is tested "
                    f"against a real PKCS#11 token. Install it: apt-get install softhsm2 opensc", pytrace=False)
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        subprocess.run([util, "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN],
                       check=True, capture_output=True, timeout=60)
        pin_file = root / "pin"
        pin_file.write_text(PIN + "\n")
        pin_file.chmod(0o600)
        hsm = SoftHsm(LIBRARY, LABEL, PIN, pin_file, conf)
        _provision(hsm)
        yield hsm
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def hsm_harness(softhsm: SoftHsm, tmp_path: Path) -> Callable[..., PluginHarness]:
    """``hsm_harness(security_mode="strict", **config)``: the plugin on the test token, through its entry point."""
    def make(security_mode: str = "strict", **config: Any) -> PluginHarness:
        return PluginHarness("secrets", "hsm", softhsm.config(**config), tmp_path / "state",
                             security_mode=security_mode)
    return make


@pytest.fixture
def pin_file(softhsm: SoftHsm, tmp_path: Path) -> Callable[..., Path]:
    """``pin_file(content=PIN + "\\n", mode=0o600)``: a PIN file of this test only."""
    def make(content: str = PIN + "\n", mode: int = 0o600) -> Path:
        path = tmp_path / "hsm_pin"
        path.write_text(content)
        path.chmod(mode)
        return path
    return make
