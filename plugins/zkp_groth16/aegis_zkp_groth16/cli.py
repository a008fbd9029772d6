"""``aegis trusted-setup``: generate and sign the keys on the ceremony machine."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import click

from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.circuit import risk_signal_r1cs
from aegis_zkp_groth16.keygen import ToxicWaste, generate


def _operator_entropy() -> bytes:
    click.echo("Type random text (keyboard mashing), then press Enter twice:")
    h = hashlib.sha512()
    while True:
        line = click.prompt("", default="", show_default=False, prompt_suffix="")
        h.update(line.encode() + time.perf_counter_ns().to_bytes(8, "big"))
        if not line.strip():
            break
    return h.digest()


@click.command("trusted-setup")
@click.option("--interactive", is_flag=True, help="mix typed operator input into the OS entropy")
@click.option("--output", "output", type=click.Path(path_type=Path), required=True,
              help="directory for proving_key.bin, verification_key.{bin,json,sig}, ceremony_log.txt")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, exists=True), default=None,
              help="deployment YAML whose secrets plugin signs the verification key (default: embedded)")
@click.option("--signing-key", default="zkp", show_default=True, help="secrets-plugin signing key name")
@click.option("--operator", default=None, help="operator name for the log (default: the login name)")
def trusted_setup(interactive: bool, output: Path, config_path: Path | None, signing_key: str,
                  operator: str | None) -> None:
    """Generate the Groth16 keys for the consortium risk signal; the secrets never touch the disk."""
    from aegis import deployment
    from aegis.cli import default_config_path

    extra = _operator_entropy() if interactive else b""
    r1cs = risk_signal_r1cs()
    toxic = ToxicWaste.from_entropy(extra)
    try:
        pk = generate(r1cs, toxic)
    finally:
        toxic.wipe()
        del toxic
    path = config_path or default_config_path()
    config = deployment.check(path)
    with deployment.started(config, str(path), families=("secrets",)) as host:
        pem = host.public_key(signing_key)
        written = write_keys(output, pk, lambda data: host.sign(data, signing_key), pem,
                             contributions=[f"single-party set-up, circuit {pk.circuit}"], operator=operator)
    for p in written:
        click.echo(f"wrote {p}")
