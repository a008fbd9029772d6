"""``aegis trusted-setup`` (single party) and ``aegis ceremony …`` (multi-party): make and sign the keys."""

from __future__ import annotations

import getpass
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aegis_zkp_groth16.artifacts import write_keys
from aegis_zkp_groth16.circuit import risk_signal_r1cs
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.keys import ProvingKey

if TYPE_CHECKING:
    from aegis_zkp_groth16.ceremony import Verified


def _operator_entropy() -> bytes:
    click.echo("Type random text (keyboard mashing), then press Enter twice:")
    h = hashlib.sha512()
    while True:
        line = click.prompt("", default="", show_default=False, prompt_suffix="")
        h.update(line.encode() + time.perf_counter_ns().to_bytes(8, "big"))
        if not line.strip():
            break
    return h.digest()


def key_output_options(command):
    """The options of the commands that write a signed key directory (trusted-setup, ceremony finalize)."""
    for option in reversed((
        click.option("--output", "output", type=click.Path(path_type=Path), required=True,
                     help="directory for proving_key.bin, verification_key.{bin,json,sig}, ceremony_log.txt"),
        click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, exists=True), default=None,
                     help="deployment YAML whose secrets plugin signs the verification key (default: embedded)"),
        click.option("--signing-key", default="zkp", show_default=True, help="secrets-plugin signing key name"),
        click.option("--operator", default=None, help="operator name for the log (default: the login name)"),
    )):
        command = option(command)
    return command


@click.command("trusted-setup")
@click.option("--interactive", is_flag=True, help="mix typed operator input into the OS entropy")
@key_output_options
def trusted_setup(interactive: bool, output: Path, config_path: Path | None, signing_key: str,
                  operator: str | None) -> None:
    """Generate the Groth16 keys for the consortium risk signal; the secrets never touch the disk."""
    extra = _operator_entropy() if interactive else b""
    r1cs = risk_signal_r1cs()
    toxic = ToxicWaste.from_entropy(extra)
    try:
        pk = generate(r1cs, toxic)
    finally:
        toxic.wipe()
        del toxic
    _write_signed(output, pk, config_path, signing_key, [f"single-party set-up, circuit {pk.circuit}"], operator)


def _write_signed(output: Path, pk: ProvingKey, config_path: Path | None, signing_key: str,
                  contributions: list[str], operator: str | None) -> None:
    """Write the key directory, the verification key signed through the deployment's secrets plugin."""
    from aegis import deployment
    from aegis.cli import default_config_path

    path = config_path or default_config_path()
    config = deployment.check(path)
    with deployment.started(config, str(path), families=("secrets",)) as host:
        pem = host.public_key(signing_key)
        written = write_keys(output, pk, lambda data: host.sign(data, signing_key), pem,
                             contributions=contributions, operator=operator)
    for p in written:
        click.echo(f"wrote {p}")


# -- aegis ceremony ----------------------------------------------------------------------

@contextmanager
def _reported() -> Iterator[None]:
    """Ceremony and transcript errors as a one-line message and exit code 1."""
    from aegis_zkp_groth16.ceremony import CeremonyError
    from aegis_zkp_groth16.ceremony_transcript import TranscriptError

    try:
        yield
    except (CeremonyError, TranscriptError) as exc:
        raise click.ClickException(str(exc)) from None


def _timed(label: str, started: float) -> None:
    click.echo(f"{label} in {time.perf_counter() - started:.1f} s")


@click.group("ceremony")
def ceremony() -> None:
    """Multi-party trusted set-up: sound if any one contributor destroyed their secrets.

    init → contribute … → beacon → prepare → contribute … → beacon → verify → finalize.
    """


@ceremony.command("init")
@click.argument("out", type=click.Path(path_type=Path))
def ceremony_init(out: Path) -> None:
    """Start a transcript for the risk-signal circuit (phase 1, every secret 1)."""
    from aegis_zkp_groth16.ceremony import init

    transcript = init(risk_signal_r1cs())
    transcript.save(out)
    click.echo(f"wrote {out}: phase 1, domain {transcript.domain_size}, start hash {transcript.head_hash()}")


@ceremony.command("contribute")
@click.argument("in_path", metavar="IN", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="contributor name recorded in the transcript (default: login name)")
@click.option("--interactive", is_flag=True, help="mix typed input into the OS entropy")
def ceremony_contribute(in_path: Path, out: Path, name: str | None, interactive: bool) -> None:
    """Multiply fresh secrets into IN and write OUT; print the hash to write down."""
    from aegis_zkp_groth16.ceremony import check_structure, contribute
    from aegis_zkp_groth16.ceremony_proofs import Secrets
    from aegis_zkp_groth16.ceremony_transcript import labels, load

    with _reported():
        transcript = load(in_path)
        check_structure(transcript, risk_signal_r1cs())
        extra = _operator_entropy() if interactive else b""
        started = time.perf_counter()
        secrets = Secrets.from_entropy(labels(transcript.phase, "contribution"), extra)
        try:
            record = contribute(transcript, name or getpass.getuser(), secrets)
        finally:
            secrets.wipe()
            del secrets
        transcript.save(out)
    _timed(f"contribution #{record.index} (phase {record.phase}, {record.name!r})", started)
    click.echo(f"wrote {out}")
    click.echo(f"contribution hash: {record.hash}")
    click.echo("Write the hash down: `aegis ceremony verify` lists it for every later transcript.")


@ceremony.command("beacon")
@click.argument("in_path", metavar="IN", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("beacon_hex", metavar="HEX")
@click.argument("iterations_exp", metavar="ITER", type=int)
def ceremony_beacon(in_path: Path, out: Path, beacon_hex: str, iterations_exp: int) -> None:
    """A public contribution from a random beacon: secrets from SHA-256 of HEX iterated 2^ITER times."""
    from aegis_zkp_groth16.ceremony import apply_beacon, check_structure
    from aegis_zkp_groth16.ceremony_transcript import load

    with _reported():
        transcript = load(in_path)
        check_structure(transcript, risk_signal_r1cs())
        started = time.perf_counter()
        record = apply_beacon(transcript, beacon_hex, iterations_exp)
        transcript.save(out)
    _timed(f"beacon #{record.index} (phase {record.phase})", started)
    click.echo(f"wrote {out}")
    click.echo(f"contribution hash: {record.hash}")


@ceremony.command("prepare")
@click.argument("in_path", metavar="IN", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.argument("out", type=click.Path(path_type=Path))
def ceremony_prepare(in_path: Path, out: Path) -> None:
    """Close phase 1 and start phase 2: the circuit's key with δ = γ = 1 (deterministic)."""
    from aegis_zkp_groth16.ceremony import check_structure, prepare
    from aegis_zkp_groth16.ceremony_transcript import load

    with _reported():
        transcript = load(in_path)
        r1cs = risk_signal_r1cs()
        check_structure(transcript, r1cs)
        started = time.perf_counter()
        record = prepare(transcript, r1cs)
        transcript.save(out)
    _timed("prepare", started)
    click.echo(f"wrote {out}: phase 2")
    click.echo(f"prepare hash: {record.hash}")


@ceremony.command("verify")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def ceremony_verify(file: Path) -> None:
    """Check every link of the chain; list every contribution with its hash."""
    _verified(file)
    click.echo("OK")


def _verified(path: Path) -> Verified:
    from aegis_zkp_groth16.ceremony import summary_line, verify
    from aegis_zkp_groth16.ceremony_transcript import load

    with _reported():
        started = time.perf_counter()
        result = verify(load(path), risk_signal_r1cs())
    for record in result.records:
        click.echo(summary_line(record))
    _timed(f"verified {path}", started)
    return result


@ceremony.command("finalize")
@click.argument("in_path", metavar="IN", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@key_output_options
def ceremony_finalize(in_path: Path, output: Path, config_path: Path | None, signing_key: str,
                      operator: str | None) -> None:
    """Verify IN, then write the same key directory as trusted-setup."""
    from aegis_zkp_groth16.ceremony import summary_line

    result = _verified(in_path)
    phases = {r.phase for r in result.records if r.kind != "prepare"}
    if result.key is None or phases != {1, 2}:
        raise click.ClickException(f"{in_path} cannot be finalized: it needs phase-1 contributions, "
                                   "`aegis ceremony prepare` and at least one phase-2 contribution (with δ = γ = 1 "
                                   "anyone could forge proofs)")
    _write_signed(output, result.key, config_path, signing_key, [summary_line(r) for r in result.records],
                  operator)
