"""Audit benchmark: records/s each audit sink stores with the hash chain on, next to the same sink
storing the same records without the chain, in the same run.

    python bench/audit.py [--batches 40] [--batch-size 4096] [--runs 3] [--profile]

Records are decisions over the kernel's sample transactions (``aegis.testing.samples``), decoded
and decided by the kernel, in batches of the pipeline's default size. Their canonical lines are
rendered before timing starts: rendering belongs to the decision step, is done once per batch
for all sinks, and is reported on its own line. Each sink runs with its production defaults
(JSONL ``fsync: batch``: an fsync per batch; SQLite ``synchronous: FULL``: the WAL fsynced at
every batch commit), in a fresh file per run:

- **chain on**: every batch goes through the kernel's :class:`~aegis.audit_trail.AuditTrail`, as
  the pipeline writes it: ``aegis_audit_known`` (idempotency), ``Chain.extend`` (hash chain),
  ``aegis_audit_write``, and a checkpoint signed with a software ECDSA P-256 key every 10,000
  records (the ``audit_trail`` default) plus one at the end. The stored trail is then verified
  with :func:`aegis.audit_verify.verify_trail` (not timed): the chain is really there.
- **no chain**: the same sink, the same records, ``aegis_audit_known`` then ``aegis_audit_write``
  with the kernel's unchained lines (``Decisions.lines()``) built into records before timing:
  the sink's own file/database work, without the chain and the checkpoints.

The breakdown times each part alone (``Chain.extend`` in memory, ``aegis_audit_known`` on a
filled sink) to show where the time of the chained run goes. Figures are medians of ``--runs``
runs. The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aegis.audit_chain import Chain, ChainedRecord, merkle_root
from aegis.audit_verify import verify_trail
from aegis.decide import DECISION_NAMES, Decisions
from aegis.decode import decode
from aegis.model import AccountIndex, RawBatch
from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions

CHECKPOINT_EVERY = 10_000  # AuditTrailConfig's default
TARGETS = {"jsonl": 250_000, "sqlite": 100_000}


def sink_config(plugin: str, directory: Path) -> dict:
    """The sink's production defaults, writing into ``directory``."""
    if plugin == "jsonl":
        return {"path": str(directory / "aegis_audit.jsonl"), "fsync": "batch"}
    return {"path": str(directory / "aegis_audit.db"), "synchronous": "FULL"}


def make_batches(count: int, size: int) -> list[Decisions]:
    """``count`` batches of ``size`` decided sample transactions, lines rendered."""
    work = transactions(count * size, seed=2026, accounts=5000)
    accounts = AccountIndex()
    batches = []
    for i in range(count):
        payloads = work[i * size:(i + 1) * size]
        batch, rejects = decode(RawBatch(source="bench", payloads=payloads,
                                         origins=[f"bench:{i * size + j}" for j in range(size)]), accounts)
        assert batch is not None and not rejects, rejects[:3]
        batches.append(PluginHarness.decisions(batch))
    return batches


def plain_records(batches: list[Decisions], after_seq: int = 0) -> list[list[ChainedRecord]]:
    """The same records without the chain: the kernel's lines as they are, numbered after ``after_seq``."""
    out, seq = [], after_seq
    for d in batches:
        names = [DECISION_NAMES[x] for x in d.decision.tolist()]
        out.append([ChainedRecord(u, seq + i + 1, "", name, line)
                    for i, (u, name, line) in enumerate(zip(d.uetr, names, d.lines(), strict=True))])
        seq += len(d)
    return out


def timed(work: Callable[[], None], profile: bool) -> float:
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.runcall(work)
    else:
        work()
    seconds = time.perf_counter() - start
    if profiler is not None:
        print("    profile (top 12 by own time):")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(12)
    return seconds


@contextmanager
def workspace(plugin: str, template: Path | None = None) -> Iterator[Path]:
    """A fresh directory for one run; with ``template``, the SQLite database starts as a copy of it."""
    with tempfile.TemporaryDirectory(prefix=f"aegis-bench-audit-{plugin}-") as tmp:
        if template is not None:
            shutil.copyfile(template, sink_config(plugin, Path(tmp))["path"])
        yield Path(tmp)


def run_chained(plugin: str, batches: list[Decisions], verify: bool, profile: bool,
                template: Path | None = None) -> float:
    with workspace(plugin, template) as tmp, \
            PluginHarness("audit", plugin, sink_config(plugin, tmp), tmp / "state") as h:
        trail = h.trail(checkpoint_every=CHECKPOINT_EVERY)

        def work() -> None:
            for d in batches:
                trail.write(d)
            trail.seal()

        seconds = timed(work, profile)
        if verify:
            total = sum(len(d) for d in batches)
            report = verify_trail(h.call("aegis_audit_scan", after_seq=0), h.call("aegis_audit_checkpoints"),
                                  h.public_key_pem)
            if not report.ok or report.records != total or report.sealed_through != total:
                sys.exit(f"{plugin}: the chained trail does not verify: {report.records} records, sealed through "
                         f"{report.sealed_through}, findings {[str(f) for f in report.findings[:3]]}")
    return seconds


def run_plain(plugin: str, batches: list[Decisions], records: list[list[ChainedRecord]], profile: bool,
              template: Path | None = None) -> float:
    with workspace(plugin, template) as tmp, \
            PluginHarness("audit", plugin, sink_config(plugin, tmp), tmp / "state") as h:

        def work() -> None:
            for d, recs in zip(batches, records, strict=True):
                h.call("aegis_audit_known", uetrs=d.uetr)
                h.call("aegis_audit_write", decisions=d, records=recs)

        return timed(work, profile)


def time_known(plugin: str, batches: list[Decisions], records: list[list[ChainedRecord]]) -> float:
    """``aegis_audit_known`` alone, asked for every batch of a sink that already stores them all."""
    with workspace(plugin) as tmp, PluginHarness("audit", plugin, sink_config(plugin, tmp), tmp / "state") as h:
        for d, recs in zip(batches, records, strict=True):
            h.call("aegis_audit_write", decisions=d, records=recs)
        start = time.perf_counter()
        for d in batches:
            h.call("aegis_audit_known", uetrs=d.uetr)
        return time.perf_counter() - start


def time_extend(batches: list[Decisions]) -> float:
    chain = Chain()
    names = [[DECISION_NAMES[x] for x in d.decision.tolist()] for d in batches]
    start = time.perf_counter()
    for d, n in zip(batches, names, strict=True):
        chain.extend(d.uetr, n, d.lines())
    return time.perf_counter() - start


def prefilled_database(directory: Path, count: int, sample: Decisions) -> Path:
    """A closed SQLite audit database already holding ``count`` chained, sealed records (random UETRs,
    lines of the sample's size), written through the plugin's hooks and the kernel's chain."""
    rng = random.Random(7)
    line = sample.lines()[0]
    uetr = sample.uetr[0].encode()
    with PluginHarness("audit", "sqlite", {**sink_config("sqlite", directory), "synchronous": "NORMAL"},
                       directory / "state") as h:
        trail = h.trail(checkpoint_every=CHECKPOINT_EVERY).sinks[0]
        for start in range(0, count, 4096):
            uetrs = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(min(4096, count - start))]
            bodies = [line.replace(uetr, u.encode()) for u in uetrs]
            records = trail.chain.extend(uetrs, ["CLEAR"] * len(uetrs), bodies)
            h.call("aegis_audit_write", decisions=sample, records=records)
            if trail.chain.due(CHECKPOINT_EVERY, 1e9):
                trail.seal()
        trail.seal()
    return Path(sink_config("sqlite", directory)["path"])


def time_merkle(batches: list[Decisions]) -> float:
    """Merkle roots over every record hash, a checkpoint's worth at a time (as sealing computes them)."""
    chain = Chain()
    hashes = [r.hash for d in batches
              for r in chain.extend(d.uetr, [DECISION_NAMES[x] for x in d.decision.tolist()], d.lines())]
    start = time.perf_counter()
    for i in range(0, len(hashes), CHECKPOINT_EVERY):
        merkle_root(hashes[i:i + CHECKPOINT_EVERY])
    return time.perf_counter() - start


def measure(plugin: str, batches: list[Decisions], runs: int, profile: bool, template: Path | None = None,
            after_seq: int = 0) -> tuple[list[float], list[float]]:
    """Seconds of each chained and each unchained run, alternating so drift in machine load hits both alike."""
    records = plain_records(batches, after_seq)
    chained, plain = [], []
    for run in range(runs):
        chained.append(run_chained(plugin, batches, verify=run == 0 and template is None,
                                   profile=profile and run == 0, template=template))
        plain.append(run_plain(plugin, batches, records, profile=profile and run == 0, template=template))
    return chained, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per run")
    parser.add_argument("--batch-size", type=int, default=4096, help="records per batch (pipeline default)")
    parser.add_argument("--runs", type=int, default=3, help="runs per sink and mode (median reported)")
    parser.add_argument("--prefill", type=int, default=0, metavar="N",
                        help="also measure SQLite writing into a database that already holds N records")
    parser.add_argument("--profile", action="store_true", help="cProfile the first run of each sink and mode")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")

    print(f"preparing {args.batches} batches of {args.batch_size:,} decisions ...", flush=True)
    start = time.perf_counter()
    batches = make_batches(args.batches, args.batch_size)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    for d in batches:
        d.lines()
    render = time.perf_counter() - start
    # The prepared input (over a million Python objects) would not sit in a pipeline's memory: keep the
    # garbage collector from walking it again and again during the timed runs.
    gc.collect()
    gc.freeze()
    n = sum(len(d) for d in batches)
    mean_bytes = sum(len(line) for d in batches for line in d.lines()) / n
    print(f"  {n:,} records, {mean_bytes:,.0f} bytes per line unchained; decode+decide {prepared:.1f} s; "
          f"rendering (Decisions.lines, not timed below) {n / render:,.0f} records/s")

    figures: dict[str, float | int | bool | None] = {
        "records": n, "batch_size": args.batch_size, "runs": args.runs, "render_records_per_s": n / render}
    extend = statistics.median(time_extend(batches) for _ in range(args.runs))
    merkle = statistics.median(time_merkle(batches) for _ in range(args.runs))
    figures["chain_extend_records_per_s"] = n / extend
    figures["merkle_records_per_s"] = n / merkle
    rows = []
    scenarios: list[tuple[str, str, Path | None, int]] = [("jsonl", "jsonl", None, 0), ("sqlite", "sqlite", None, 0)]
    with tempfile.TemporaryDirectory(prefix="aegis-bench-audit-prefill-") as scratch:
        if args.prefill:
            print(f"sqlite: writing {args.prefill:,} records into a database to start from ...", flush=True)
            scenarios.append((f"sqlite_after_{args.prefill}", "sqlite",
                              prefilled_database(Path(scratch), args.prefill, batches[0]), args.prefill))
        for name, plugin, template, after_seq in scenarios:
            print(f"{name}: {args.runs} runs with the chain, {args.runs} without ...", flush=True)
            chained, plain = measure(plugin, batches, args.runs, args.profile, template, after_seq)
            chain_rps, plain_rps = n / statistics.median(chained), n / statistics.median(plain)
            figures[f"{name}_chain_records_per_s"] = chain_rps
            figures[f"{name}_plain_records_per_s"] = plain_rps
            figures[f"{name}_chain_best_records_per_s"] = n / min(chained)
            figures[f"{name}_plain_best_records_per_s"] = n / min(plain)
            rows.append((name, plugin, chain_rps, plain_rps, n / min(chained), n / min(plain),
                         statistics.median(plain)))
    known = {plugin: time_known(plugin, batches, plain_records(batches)) for plugin in ("jsonl", "sqlite")}
    for plugin in ("jsonl", "sqlite"):
        figures[f"{plugin}_known_records_per_s"] = n / known[plugin]
        figures[f"{plugin}_target_met"] = figures[f"{plugin}_chain_records_per_s"] >= TARGETS[plugin]

    print()
    print(f"records/s, median of {args.runs} runs (best run in brackets):")
    print(f"{'sink':22} {'chain on':>21} {'no chain':>23} {'chain cost':>11} {'target':>9}  met")
    for name, plugin, chain_rps, plain_rps, best_chain, best_plain, _ in rows:
        print(f"{name:22} {chain_rps:>9,.0f} ({best_chain:>9,.0f}) {plain_rps:>10,.0f} ({best_plain:>10,.0f})"
              f" {100 * (1 - chain_rps / plain_rps):>10.0f}% {TARGETS[plugin]:>9,}  "
              f"{'yes' if chain_rps >= TARGETS[plugin] else 'NO'}")
    print()
    print("where a chained record's time goes (µs per record; each part timed alone, medians):")
    print(f"{'sink':22} {'chained run':>12} {'known()':>9} {'extend':>8} {'merkle':>8} {'sink write':>11} {'rest':>7}")
    for name, plugin, chain_rps, _, _, _, plain_seconds in rows:
        total, k, e, m = 1e6 / chain_rps, 1e6 * known[plugin] / n, 1e6 * extend / n, 1e6 * merkle / n
        write = 1e6 * plain_seconds / n - k  # the no-chain run is known() + write
        rest = total - k - e - m - write
        print(f"{name:22} {total:>12.2f} {k:>9.2f} {e:>8.2f} {m:>8.2f} {write:>11.2f} {rest:>7.2f}")
    print("known(): aegis_audit_known; extend: Chain.extend; merkle: merkle_root when sealing; sink write: the "
          "no-chain run less known();\nrest: the longer chained lines, signing, the trail's bookkeeping. "
          f"Rendering is excluded: {1e6 * render / n:.2f} µs per record, once per batch for all sinks.")
    print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
