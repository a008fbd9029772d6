"""The key directory: writing the set-up's artefacts and loading them with the signature checked."""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aegis.errors import SecurityViolation
from aegis.signing import fingerprint, verify
from aegis_zkp_groth16.keys import (
    ProvingKey,
    VerificationKey,
    pk_from_bytes,
    pk_to_bytes,
    save,
    vk_from_bytes,
    vk_to_bytes,
)
from aegis_zkp_groth16.snarkjs_json import vk_to_json

PROVING_KEY = "proving_key.bin"
VERIFICATION_KEY = "verification_key.bin"
VERIFICATION_KEY_JSON = "verification_key.json"
SIGNATURE = "verification_key.sig"
LOG = "ceremony_log.txt"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_keys(out: Path, pk: ProvingKey, sign: Callable[[bytes], bytes], public_key_pem: bytes,
               contributions: list[str], operator: str | None = None) -> list[Path]:
    """Write the key files, the signature over ``verification_key.bin`` and the ceremony log."""
    out.mkdir(parents=True, exist_ok=True)
    vk_bytes = vk_to_bytes(pk.vk)
    save(out / PROVING_KEY, pk_to_bytes(pk))
    save(out / VERIFICATION_KEY, vk_bytes)
    save(out / VERIFICATION_KEY_JSON, json.dumps(vk_to_json(pk.vk), indent=1).encode())
    save(out / SIGNATURE, sign(vk_bytes))
    written = [out / n for n in (PROVING_KEY, VERIFICATION_KEY, VERIFICATION_KEY_JSON, SIGNATURE)]
    lines = [f"Ceremony Date: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
             f"Operator: {operator or getpass.getuser()}",
             f"Circuit: {pk.circuit}",
             f"Signing key: {fingerprint(public_key_pem)}"]
    lines += [f"Contribution: {c}" for c in contributions]
    lines += [f"{sha256_file(p)}  {p.name}" for p in written]
    save(out / LOG, ("\n".join(lines) + "\n").encode())
    return [*written, out / LOG]


@dataclass
class KeySet:
    pk_path: Path
    vk: VerificationKey


def load_verified(key_dir: Path, public_key_pem: bytes, circuit: str) -> KeySet:
    """The verification key, after its signature verified; raises :class:`SecurityViolation` otherwise."""
    vk_path, sig_path, pk_path = key_dir / VERIFICATION_KEY, key_dir / SIGNATURE, key_dir / PROVING_KEY
    for p in (vk_path, sig_path, pk_path):
        if not p.is_file():
            raise SecurityViolation(f"zkp: {p} is missing; run `aegis trusted-setup --output {key_dir}`")
    vk_bytes = vk_path.read_bytes()
    if not verify(public_key_pem, vk_bytes, sig_path.read_bytes()):
        raise SecurityViolation(f"zkp: {sig_path} does not verify {vk_path} with signing key "
                                f"{fingerprint(public_key_pem)}: refusing to run with an unsigned verification key")
    vk = vk_from_bytes(vk_bytes, str(vk_path))
    pk = pk_from_bytes(pk_path.read_bytes(), str(pk_path))
    if pk.circuit != circuit:
        raise SecurityViolation(f"zkp: {pk_path} was made for circuit {pk.circuit[:16]}…, not this one")
    if vk_to_bytes(pk.vk) != vk_bytes:
        raise SecurityViolation(f"zkp: {pk_path} and {vk_path} are not from the same set-up")
    return KeySet(pk_path, vk)
