"""The ``aegis`` command: run, plugins, config check, self-test."""

from __future__ import annotations

import json
import signal
import sys
import time
from importlib import resources
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from aegis import __version__
from aegis._loading import installed_plugins, load_plugin_class
from aegis._manager import implemented_hooks
from aegis.config import load_outline
from aegis.deployment import check, configure_logging, started
from aegis.errors import AegisError
from aegis.hookspecs import FAMILIES
from aegis.pipeline import Pipeline, RunSummary

out = Console()
err = Console(stderr=True)
DEFAULT_CONFIG = "demo.yaml"


def default_config_path() -> Path:
    """The embedded default deployment (file ingress → rules → JSONL audit)."""
    return Path(str(resources.files("aegis.defaults").joinpath(DEFAULT_CONFIG)))


def _fail(exc: AegisError) -> None:
    err.print(str(exc), style="bold red", markup=False, highlight=False, soft_wrap=True)
    sys.exit(exc.exit_code)


class AegisGroup(click.Group):
    """Turns every :class:`AegisError` into its message and exit code, never a traceback.

    Plugin distributions may add subcommands (e.g. ``aegis hsm init-keys``) under the
    entry-point group ``aegis.commands``; a command's module is imported only when that
    command is invoked.
    """

    #: entry-point group whose commands this group adds
    commands_group = "aegis.commands"

    def list_commands(self, ctx: click.Context) -> list[str]:
        from importlib.metadata import entry_points
        return sorted(set(super().list_commands(ctx)) | {ep.name for ep in entry_points(group=self.commands_group)})

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        from importlib.metadata import entry_points
        found = [ep for ep in entry_points(group=self.commands_group) if ep.name == name]
        if len(found) > 1:
            raise click.ClickException(f"command {name!r} is provided by several distributions: "
                                       + ", ".join(f"{ep.dist.metadata['Name']}" for ep in found if ep.dist))
        return found[0].load() if found else None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AegisError as exc:
            _fail(exc)


@click.group(cls=AegisGroup)
@click.version_option(__version__, prog_name="aegis")
def main() -> None:
    """Aegis: real-time transaction screening (CLEAR / INVESTIGATE / BLOCK with audit)."""


# -- run -----------------------------------------------------------------------


def _summary_table(summary: RunSummary) -> Table:
    s = summary.as_dict()
    table = Table(title="Aegis run summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    total = max(s["transactions"], 1)
    rows = [
        ("transactions screened", f"{s['transactions']:,}"),
        ("rejected to dead letter", f"{s['rejects']:,}"),
        ("CLEAR", f"{s['clear']:,} ({s['clear'] / total:.2%})"),
        ("INVESTIGATE", f"{s['investigate']:,} ({s['investigate'] / total:.2%})"),
        ("BLOCK", f"{s['block']:,} ({s['block'] / total:.2%})"),
        ("screening errors (fail-closed)", f"{s['screening_errors']:,}"),
        ("batches", f"{s['batches']:,}"),
        ("elapsed", f"{s['seconds']:.2f} s"),
        ("throughput", f"{s['tps']:,.0f} TPS"),
        ("batch latency p50 / p99", f"{s['batch_latency_p50_ms']:.2f} / {s['batch_latency_p99_ms']:.2f} ms"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    return table


@main.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="deployment YAML (default: the embedded demo deployment)")
@click.option("--json", "as_json", is_flag=True, help="print the summary as one JSON line")
@click.option("--no-progress", is_flag=True, help="no progress bar")
def run(config_path: Path | None, as_json: bool, no_progress: bool) -> None:
    """Screen transactions from the configured sources until they end or SIGTERM/SIGINT."""
    path = config_path or default_config_path()
    config = load_outline(path)
    configure_logging(config.log_level)
    with started(config, source=str(path)) as host:
        pipeline = Pipeline(host, config)
        stops = {"n": 0}

        def on_signal(signum, _frame):
            stops["n"] += 1
            if stops["n"] > 1:
                err.print("second signal: exiting without draining (unacknowledged input will be re-read)")
                sys.exit(130)
            err.print(f"{signal.Signals(signum).name}: stopping intake, draining and acknowledging")
            pipeline.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        show = not no_progress and err.is_terminal
        progress = Progress(TextColumn("screening"), BarColumn(), TaskProgressColumn(),
                            TextColumn("{task.fields[tx]:,} tx"), TimeElapsedColumn(), console=err,
                            disable=not show)
        task = progress.add_task("run", total=None, tx=0)
        last_line = [time.monotonic()]

        def on_batch(raw, summary):
            if raw.progress:
                done, total = raw.progress
                progress.update(task, completed=done, total=total, tx=summary.transactions)
            if not show and time.monotonic() - last_line[0] > 5:
                last_line[0] = time.monotonic()
                err.print(f"screened {summary.transactions:,} transactions ({summary.rejects:,} rejected)")

        with progress:
            summary = pipeline.run(on_batch)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        out.print(_summary_table(summary))


# -- plugins ---------------------------------------------------------------------


@main.command()
@click.option("--config", "schema_of", metavar="NAME", help="print this plugin's config schema ([family/]name)")
@click.option("-c", "--deployment", "deployment", type=click.Path(dir_okay=False, path_type=Path),
              help="mark the plugins this deployment YAML enables")
@click.option("--hooks/--no-hooks", default=True, help="import each plugin to list the hooks it implements")
def plugins(schema_of: str | None, deployment: Path | None, hooks: bool) -> None:
    """List installed plugins: family, name, distribution, version, enabled, hooks."""
    if schema_of:
        family, _, name = schema_of.rpartition("/")
        matches = [p for p in installed_plugins() if p.name == name and (not family or p.family == family)]
        if not matches:
            raise click.ClickException(f"no installed plugin named {schema_of!r}; see `aegis plugins`")
        if len(matches) > 1:
            raise click.ClickException(f"{name!r} exists in several families; say which: "
                                       + ", ".join(f"{m.family}/{m.name}" for m in matches))
        cls, _ = load_plugin_class(matches[0].family, matches[0].name)
        click.echo(json.dumps(cls.Config.model_json_schema(), indent=2))
        return
    enabled: set[tuple[str, str]] = set()
    if deployment:
        config = load_outline(deployment)
        enabled = {(f, r.plugin) for f, _, r in config.plugin_refs()}
    table = Table(title="Installed Aegis plugins")
    for col in ("family", "name", "distribution", "version", "enabled", "hooks"):
        table.add_column(col)
    for p in installed_plugins():
        hook_list = ""
        if hooks:
            try:
                cls, _ = load_plugin_class(p.family, p.name)
                hook_list = " ".join(h.removeprefix("aegis_") for h in implemented_hooks(cls))
            except AegisError as exc:
                hook_list = f"[red]broken: {exc}[/]"
        table.add_row(p.family, p.name, p.distribution, p.version,
                      ("yes" if (p.family, p.name) in enabled else "no") if deployment else "-", hook_list)
    out.print(table)
    missing = [f for f in FAMILIES if not installed_plugins(f)]
    if missing:
        out.print(f"families with no installed plugin: {', '.join(missing)}")


# -- config ------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Validate deployment files."""


@config.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def config_check(path: Path) -> None:
    """Validate PATH: the outline, every named plugin installed, every plugin section."""
    cfg = check(path)
    names = ", ".join(f"{f}:{r.plugin}" for f, _, r in cfg.plugin_refs())
    click.echo(f"{path}: OK ({names}; security_mode={cfg.security_mode})")


# -- keys ------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Sign and verify files with the deployment's signing keys (key ceremony steps)."""


def _secrets_host(config_path: Path | None):
    path = config_path or default_config_path()
    cfg = load_outline(path)
    configure_logging(cfg.log_level)
    return started(cfg, source=str(path), families=("secrets",))


@keys.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--key", default="audit", show_default=True, help="signing key name in the secrets backend")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def keys_sign(file: Path, out_path: Path, key: str, config_path: Path | None) -> None:
    """Sign FILE with the secrets backend's key; write the signature (DER) to --out."""
    with _secrets_host(config_path) as host:
        signature = host.sign(file.read_bytes(), key)
        pem = host.public_key(key)
    out_path.write_bytes(signature)
    click.echo(f"signed {file} with key {key!r}: {out_path} ({len(signature)} bytes)")
    from aegis.signing import fingerprint
    click.echo(f"public key {fingerprint(pem)} (export it with `aegis keys public-key --key {key}`)")


@keys.command("public-key")
@click.option("--key", default="audit", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def keys_public_key(key: str, out_path: Path | None, config_path: Path | None) -> None:
    """Print (or write) the PEM public key of a signing key, for verifiers."""
    with _secrets_host(config_path) as host:
        pem = host.public_key(key)
    if out_path:
        out_path.write_bytes(pem)
        click.echo(f"wrote {out_path}")
    else:
        click.echo(pem.decode(), nl=False)


@keys.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True)
def keys_verify(file: Path, signature: Path, public_key: Path) -> None:
    """Verify SIGNATURE over FILE with a PEM public key, offline (exit 1 when invalid)."""
    from aegis.signing import verify
    try:
        ok = verify(public_key.read_bytes(), file.read_bytes(), signature.read_bytes())
    except ValueError as exc:
        raise click.ClickException(f"{public_key}: not a usable public key: {exc}") from None
    if not ok:
        err.print(f"Signature INVALID: {signature} does not sign {file} under {public_key}")
        sys.exit(1)
    click.echo(f"Signature OK: {file}")


# -- audit -------------------------------------------------------------------------------


class AuditGroup(AegisGroup):
    """``aegis audit``: the kernel's subcommands plus those of audit sink distributions
    (entry-point group ``aegis.audit.commands``, e.g. ``aegis audit backup`` from the SQLite sink)."""

    commands_group = "aegis.audit.commands"


@main.group(cls=AuditGroup)
def audit() -> None:
    """Prove the audit trail: verify hash chains and signed checkpoints."""


@audit.command("verify")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="verify every audit sink of this deployment (through the sinks' own readers)")
@click.option("--sink", "sinks", multiple=True, metavar="PLUGIN:PATH",
              help="verify one sink's storage read-only, e.g. jsonl:/app/aegis_audit.jsonl or "
                   "s3:s3://BUCKET/PREFIX")
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM public key that must have signed the checkpoints (without it signatures are not checked)")
def audit_verify(config_path: Path | None, sinks: tuple[str, ...], public_key: Path | None) -> None:
    """Report every modified, deleted, inserted or reordered record and every bad checkpoint."""
    from aegis.audit_verify import verify_trail
    pem = public_key.read_bytes() if public_key else None
    reports = []
    for spec in sinks:
        plugin, _, location = spec.partition(":")
        if not plugin or not location:
            raise click.BadParameter(f"{spec!r}: expected PLUGIN:PATH, e.g. jsonl:aegis_audit.jsonl",
                                     param_hint="--sink")
        import tempfile

        from pydantic import ValidationError

        from aegis.testing.harness import PluginHarness
        try:
            harness = PluginHarness("audit", plugin, {"path": location, "read_only": True}, Path(tempfile.mkdtemp()))
        except ValidationError as exc:
            raise click.BadParameter(f"{spec}: the {plugin!r} sink cannot be opened read-only by path: "
                                     f"{exc.errors()[0]['msg']}", param_hint="--sink") from None
        with harness as sink:
            lines = sink.call("aegis_audit_scan", after_seq=0) or ()
            reports.append((spec, verify_trail(lines, sink.call("aegis_audit_checkpoints") or [], pem)))
    if config_path:
        cfg = load_outline(config_path)
        configure_logging(cfg.log_level)
        with started(cfg, source=str(config_path), families=("secrets", "audit")) as host:
            for lp in host.family("audit"):
                lines = host.one("aegis_audit_scan", lp, after_seq=0) or ()
                checkpoints = host.one("aegis_audit_checkpoints", lp) or []
                reports.append((lp.path, verify_trail(lines, checkpoints, pem)))
    if not reports:
        raise click.UsageError("say what to verify: -c deployment.yaml and/or --sink jsonl:PATH")
    failed = False
    for name, report in reports:
        status = "OK" if report.ok else "TAMPERED"
        click.echo(f"{name}: {status}: {report.records:,} records, {report.checkpoints:,} checkpoints, "
                   f"sealed through seq {report.sealed_through:,}"
                   + (f", {report.unsealed:,} not yet sealed" if report.unsealed else "")
                   + (f", seq 1..{report.purged_through:,} deleted under a signed retention marker"
                      if report.purged_through else "")
                   + ("" if pem else " (signatures NOT checked: no --public-key)"))
        for finding in report.findings:
            click.echo(f"  {finding}")
        failed |= not report.ok
    sys.exit(1 if failed else 0)


@audit.command("serve")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--listen", default="127.0.0.1:50052", show_default=True, help="address of the gRPC service")
def audit_serve(config_path: Path, listen: str) -> None:
    """Serve gRPC GetTransactionAudit for the deployment's audit sinks until SIGTERM/SIGINT."""
    import threading

    from aegis.audit_service import serve
    cfg = load_outline(config_path)
    configure_logging(cfg.log_level)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with started(cfg, source=str(config_path), families=("secrets", "audit")) as host:
        server, port = serve(host, listen, cfg.audit_trail.signing_key)
        err.print(f"GetTransactionAudit listening on {listen.rsplit(':', 1)[0]}:{port}")
        done.wait()
        server.stop(grace=2).wait()


@main.command("replay")
@click.option("--uetr", required=True)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def replay_command(uetr: str, config_path: Path) -> None:
    """Recompute a recorded decision from its snapshots and compare it, factor by factor (exit 1 if it differs)."""
    from aegis.replay import replay
    cfg = load_outline(config_path)
    configure_logging(cfg.log_level)
    snapshot_dir = cfg.audit_trail.snapshot_dir or Path(cfg.pipeline.state_dir) / "snapshots"
    with started(cfg, source=str(config_path), families=("secrets", "audit")) as host:
        report = replay(host, uetr, snapshot_dir)
    rec, rep = report.recorded, report.replayed
    table = Table(title=f"Replay of {report.uetr} ({report.replayed_records:,} records of its run replayed)")
    for col in ("", "recorded", "replayed"):
        table.add_column(col)
    table.add_row("decision", rec["decision"], rep["decision"])
    table.add_row("reason_code", rec["reason_code"], rep["reason_code"])
    table.add_row("risk_score", f"{rec['risk_score']:.6f}", f"{rep['risk_score']:.6f}")
    for factor in sorted(set(rec["factor_scores"]) | set(rep["factor_scores"])):
        table.add_row(f"factor {factor}", str(rec["factor_scores"].get(factor)), str(rep["factor_scores"].get(factor)))
    out.print(table)
    if report.differences:
        err.print("replay DIFFERS from the record:", style="bold red")
        for line in report.differences:
            err.print(f"  - {line}", markup=False, highlight=False)
        sys.exit(1)
    out.print("replay equals the record")


# -- export ------------------------------------------------------------------------------


@main.group("export")
def export_group() -> None:
    """Regulatory exports (write one with `python -m aegis.regulatory_export`)."""


@export_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
def export_verify(file: Path, public_key: Path) -> None:
    """Verify an export offline: record hash, fields, Merkle inclusion, checkpoint and timestamp signatures."""
    import orjson

    from aegis.regulatory_export import verify_export
    try:
        doc = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"{file}: not JSON: {exc}") from None
    problems = verify_export(doc, public_key.read_bytes())
    if problems:
        err.print(f"{file}: export does NOT verify:", style="bold red")
        for problem in problems:
            err.print(f"  - {problem}", markup=False, highlight=False)
        sys.exit(1)
    click.echo(f"{file}: export verifies: UETR {doc['uetr']} {doc['decision']} ({doc['reason_code']}) at "
               f"{doc['timestamp']}, sealed by checkpoint seq {doc['checkpoint']['from_seq']}.."
               f"{doc['checkpoint']['to_seq']} signed by {doc['public_key_fingerprint']}")


# -- self-test ---------------------------------------------------------------------


@main.command("self-test")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def self_test(config_path: Path | None) -> None:
    """Start the deployment's plugins and run each one's self-test (exit 1 on any failure)."""
    path = config_path or default_config_path()
    cfg = load_outline(path)
    configure_logging(cfg.log_level)
    with started(cfg, source=str(path)) as host:
        results = host.self_test()
    table = Table(title="Aegis self-test")
    for col in ("plugin", "check", "result", "detail"):
        table.add_column(col)
    for r in results:
        table.add_row(r.plugin, r.check, "[green]ok[/]" if r.ok else "[red]FAILED[/]", r.detail)
    out.print(table)
    failed = [r for r in results if not r.ok]
    if failed or not results:
        err.print(f"self-test failed: {len(failed)} of {len(results)} checks")
        sys.exit(1)
    out.print(f"self-test passed: {len(results)} checks")


if __name__ == "__main__":  # pragma: no cover
    main()
