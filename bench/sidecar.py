"""Sidecar benchmark: open-loop load against the ZeroMQ sidecar, next to a bare ZeroMQ echo server.

    python bench/sidecar.py [--seconds 3] [--runs 3] [--connections 4] [--fsync batch interval] [--intake inline]
                            [--batch-format lines] [--scenario single batch100] [--floor-work-us US ...]

Open loop: request k is due at ``start + k / rate`` whatever happened to earlier ones, and its
latency is measured from that due time, so a server that falls behind cannot hide its queueing
(no coordinated omission). Scenarios: single transactions at 5,000 requests/s, and batches of 100
at 500 requests/s (50,000 TPS), over ``--connections`` DEALER sockets; a batch goes as ``aegis.client``
sends one, its transactions as the lines of one frame (``SCREEN_LINES``), or with ``--batch-format
frames`` as a frame per transaction (``SCREEN``). The server is a real
deployment started with ``aegis run`` in its own process (socket ingress → rules → JSONL audit,
env secrets in permissive mode), once per audit fsync policy; every transaction has a fresh UETR.
The floor is a bare ZeroMQ ROUTER echo server (Python, own process) under the same load; with
``--floor-work-us`` it is also run spending that many µs of CPU on each request before answering: an
ideal server with that cost per request, which shows the cost a latency target allows on this machine.
Figures are medians of ``--runs`` runs; "main thr" is how busy the server's main thread was (the
one that reads, screens and replies), in CPU seconds per second: the headroom left. Then the
screening stages (decode, scoring, decide, record rendering, audit write) are timed in this
process for batches of 1 and 100, to show where a request's time goes, and the capacity for single
requests is measured (:func:`capacity`): the headroom the single scenario's rate leaves. The last line of output is
one JSON object of them all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import yaml
import zmq

from aegis.client import Client, ScreeningTimeout
from aegis.client.wire import BUSY, OK, SCREEN, SCREEN_LINES
from aegis.config import parse_outline
from aegis.testing.samples import transactions

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AEGIS_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
FATF = DATA / "country_risk" / "fatf_lists.csv"
AEGIS = str(Path(sys.executable).with_name("aegis"))


@dataclass(frozen=True)
class Scenario:
    name: str
    batch: int  # transactions per request
    requests_per_s: float
    p99_target_ms: float

    @property
    def tps(self) -> float:
        return self.batch * self.requests_per_s


SCENARIOS = (Scenario("single", 1, 5_000, 1.0), Scenario("batch100", 100, 500, 2.0))


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    return [s for s in SCENARIOS if s.name in args.scenario]


ECHO = """
import sys, time, zmq
ctx = zmq.Context()
sock = ctx.socket(zmq.ROUTER)
sock.bind(sys.argv[1])
work = float(sys.argv[2]) / 1e6 if len(sys.argv) > 2 else 0.0  # busy seconds per request
clock = time.perf_counter
while True:
    frames = sock.recv_multipart()
    if work:
        until = clock() + work
        while clock() < until:
            pass
    sock.send_multipart([frames[0], frames[1], b"OK", *frames[3:]])
"""


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Payloads:
    """Transaction frames with fresh UETRs, made from a varied template set before each run."""

    def __init__(self, templates: int = 2000):
        self.templates = [(t["uetr"].encode(), orjson.dumps(t)) for t in transactions(templates, seed=99,
                                                                                       accounts=5000)]

    def frames(self, count: int) -> list[bytes]:
        out = []
        for i in range(count):
            old, doc = self.templates[i % len(self.templates)]
            out.append(doc.replace(old, str(uuid.uuid4()).encode(), 1))
        return out


def run_load(endpoint: str, scenario: Scenario, seconds: float, connections: int, payloads: Payloads,
             probe: Callable[[], float] | None = None, lines: bool = True) -> dict:
    """Send on the fixed schedule, collect replies, return throughput and latency percentiles.

    ``lines``: a batch's transactions go as the lines of one frame (else a frame each).
    ``probe`` (a server CPU-seconds counter) is read as the clock starts and after the last reply;
    its increase per second of that window is returned as ``probe_rate``."""
    total = int(scenario.requests_per_s * seconds)
    frames = payloads.frames(total * scenario.batch)
    requests = [[SCREEN, *frames[i * scenario.batch:(i + 1) * scenario.batch]] for i in range(total)]
    if lines and scenario.batch > 1:
        requests = [[SCREEN_LINES, b"\n".join(r[1:])] for r in requests]
    ctx = zmq.Context()
    socks = []
    poller = zmq.Poller()
    for _ in range(connections):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.sndhwm = s.rcvhwm = 0
        s.connect(endpoint)
        poller.register(s, zmq.POLLIN)
        socks.append(s)
    time.sleep(0.2)  # connections up before the clock starts
    interval = 1.0 / scenario.requests_per_s
    probed = probe() if probe is not None else 0.0
    latency = np.full(total, np.nan)
    busy = sent = received = 0
    start = time.perf_counter() + 0.01
    deadline = start + seconds + 5.0
    ids = [i.to_bytes(4, "big") for i in range(total)]
    while received < total:
        now = time.perf_counter()
        if now > deadline:
            break
        while sent < total and start + sent * interval <= now:
            socks[sent % connections].send_multipart([ids[sent], *requests[sent]])
            sent += 1
        events = poller.poll(0)
        if not events:
            # Nothing to read: nap until the next due send (at most 1 ms, at least ~50 µs), without
            # spinning a core the server needs. Replies wait at most that long to be timestamped.
            gap = start + sent * interval - time.perf_counter() if sent < total else 0.001
            if gap > 0.001:
                events = poller.poll(1)
            elif gap > 0:
                time.sleep(min(gap, 0.00005))
        for sock, _ in events:
            while True:
                try:
                    reply = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                k = int.from_bytes(reply[0], "big")
                done = time.perf_counter()
                received += 1
                if reply[1] == OK:
                    latency[k] = done - (start + k * interval)
                elif reply[1] == BUSY:
                    busy += 1
        last = time.perf_counter()
    probe_rate = (probe() - probed) / (last - start) if probe is not None else None
    for s in socks:
        s.close()
    ctx.term()
    ok = latency[~np.isnan(latency)]
    ms = ok * 1e3
    return {"requests": total, "answered_ok": len(ok), "busy": busy, "lost": total - received,
            "tps": round(len(ok) * scenario.batch / (last - start), 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 3) if len(ms) else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 3) if len(ms) else None,
            "p999_ms": round(float(np.percentile(ms, 99.9)), 3) if len(ms) else None,
            "probe_rate": probe_rate}


def wait_ready(endpoint: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with Client(endpoint, timeout=0.5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            try:
                client.ping()
                return
            except ScreeningTimeout:
                continue
    raise RuntimeError(f"{endpoint} not ready within {timeout} s")


def deployment(workdir: Path, port: int, fsync: str, decode_workers: int = 0, inline_intake: bool = True,
               batch_size: int = 4096) -> dict:
    """The served deployment: socket ingress → rules → JSONL audit, env secrets in permissive mode."""
    return {
        "deployment": "bench-sidecar", "security_mode": "permissive", "log_level": "WARNING",
        "secrets": {"plugin": "env", "config": {"key_dir": str(workdir / "keys")}},
        "ingress": [{"plugin": "socket", "config": {"host": "127.0.0.1", "port": port}}],
        "scoring": [{"plugin": "rules", "config": {"geo": {"fatf_list": str(FATF)}}}],
        "audit": [{"plugin": "jsonl", "config": {"path": str(workdir / "audit.jsonl"), "fsync": fsync}}],
        "pipeline": {"batch_size": batch_size, "decode_workers": decode_workers, "inline_intake": inline_intake,
                     "state_dir": str(workdir / "state")},
    }


def start_aegis(workdir: Path, port: int, fsync: str, decode_workers: int = 0,
                inline_intake: bool = True, batch_size: int = 4096) -> subprocess.Popen:
    path = workdir / "aegis.yaml"
    path.write_text(yaml.safe_dump(deployment(workdir, port, fsync, decode_workers, inline_intake, batch_size)))
    return subprocess.Popen([AEGIS, "run", "-c", str(path), "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "AEGIS_LOG_LEVEL": "WARNING"})


STAGES = ("decode", "score", "decide", "render", "audit write")


def capacity(workdir: Path, payloads: Payloads, requests: int = 20_000) -> dict:
    """How many single requests one server sustains when they queue up: ``requests`` sent at once
    over one connection, screened one per batch (``batch_size: 1``, ``fsync: interval``), as many
    as the thread can. Returns requests per second and CPU µs of the main thread per request: the
    cost of one request through the whole server, ZeroMQ reading and replying included."""
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    proc = start_aegis(workdir, port, "interval", batch_size=1)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.sndhwm = sock.rcvhwm = 0
    try:
        wait_ready(endpoint, proc)
        sock.connect(endpoint)
        frames = payloads.frames(requests + 500)
        for frame in frames[:500]:  # warm-up, one at a time
            sock.send_multipart([b"w", SCREEN, frame])
            sock.recv_multipart()
        stat = f"/proc/{proc.pid}/task/{proc.pid}/stat"
        cpu, start = cpu_seconds(stat), time.perf_counter()
        for frame in frames[500:]:
            sock.send_multipart([b"c", SCREEN, frame])
        answered = sum(sock.recv_multipart()[1] == OK for _ in range(requests))
        took = time.perf_counter() - start
        cpu = cpu_seconds(stat) - cpu
    finally:
        sock.close()
        ctx.term()
        stop(proc)
    return {"requests_per_s": round(answered / took), "cpu_us_per_request": round(cpu / requests * 1e6, 1),
            "answered_ok": answered, "requests": requests}


def stage_costs(workdir: Path, payloads: Payloads, sizes: tuple[int, ...] = (1, 100),
                batches: int = 2000) -> dict[str, dict[str, float]]:
    """Median µs per batch of each screening stage, batches of ``size`` fresh payloads, in this process.

    The same deployment as served (``fsync: interval``), its stages called one after the other on
    one thread, as the sidecar's screening thread does; ZeroMQ reading and replying are not in it.
    """
    from aegis.decide import decide
    from aegis.decode import decode
    from aegis.deployment import started
    from aegis.model import RawBatch
    from aegis.pipeline import Pipeline, batch_gc

    config = parse_outline(deployment(workdir, 0, "interval"), environ={})
    out: dict[str, dict[str, float]] = {}
    with started(config) as host, batch_gc():
        pipeline = Pipeline(host, config)
        pipeline.trail.open()
        for size in sizes:
            rounds = batches if size < 10 else batches // 4
            frames = payloads.frames(size * rounds)
            spent: dict[str, list[float]] = {stage: [] for stage in STAGES}
            for r in range(rounds):
                raw = RawBatch(source="bench", payloads=frames[r * size:(r + 1) * size],
                               origins=[f"bench#{r}.{i}" for i in range(size)])
                t0 = time.perf_counter()
                batch, _ = decode(raw, pipeline.accounts)
                t1 = time.perf_counter()
                results = host.score(batch)
                t2 = time.perf_counter()
                decisions = decide(batch, results, config.decision, {"run": pipeline.run_id})
                t3 = time.perf_counter()
                decisions.lines()
                t4 = time.perf_counter()
                pipeline.trail.write(decisions)
                t5 = time.perf_counter()
                for stage, took in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                    spent[stage].append(took)
            warm = rounds // 4  # first batches compile and fill caches
            out[f"batch{size}"] = {stage: round(statistics.median(v[warm:]) * 1e6, 1) for stage, v in spent.items()}
            out[f"batch{size}"]["total"] = round(sum(out[f"batch{size}"][s] for s in STAGES), 1)
    return out


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: str) -> float:
    """User + system CPU time of a process or thread, from its /proc stat file."""
    with open(stat_path) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_with_cpu(pid: int, endpoint: str, scenario: Scenario, args: argparse.Namespace, payloads: Payloads) -> dict:
    """One measured run, plus how busy the server's main thread was during it (the thread that reads,
    screens and replies, in inline intake): its CPU seconds per second."""
    result = run_load(endpoint, scenario, args.seconds, args.connections, payloads,
                      probe=lambda: cpu_seconds(f"/proc/{pid}/task/{pid}/stat"), lines=args.batch_format == "lines")
    result["main_thread_busy"] = round(result.pop("probe_rate"), 3)
    return result


def measure(server: str, endpoint: str, proc: subprocess.Popen, args: argparse.Namespace,
            payloads: Payloads, pings: bool = True) -> dict[str, dict]:
    """Every scenario against one running server (one that answers no health ping gets a moment to bind)."""
    if pings:
        wait_ready(endpoint, proc)
    else:
        time.sleep(0.3)
    out = {}
    for scenario in scenarios(args):
        run_load(endpoint, scenario, 0.5, args.connections, payloads,  # warm-up (JIT, caches, connections)
                 lines=args.batch_format == "lines")
        runs = [run_with_cpu(proc.pid, endpoint, scenario, args, payloads) for _ in range(args.runs)]
        median = {k: statistics.median([r[k] for r in runs if r[k] is not None] or [float("nan")])
                  for k in ("tps", "p50_ms", "p99_ms", "p999_ms", "main_thread_busy")}
        median.update(busy=sum(r["busy"] for r in runs), lost=sum(r["lost"] for r in runs),
                      p99_runs_ms=[r["p99_ms"] for r in runs])
        out[scenario.name] = median
        print(f"  {server:<22} {scenario.name:<9} done: p99 {median['p99_ms']} ms", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measured run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (the median is reported)")
    parser.add_argument("--connections", type=int, default=4, help="DEALER connections of the load generator")
    parser.add_argument("--fsync", nargs="*", default=["batch", "interval"], choices=["batch", "interval", "never"],
                        help="audit fsync policies to run the sidecar with (none given: the echo servers only)")
    parser.add_argument("--scenario", nargs="+", choices=[s.name for s in SCENARIOS],
                        default=[s.name for s in SCENARIOS], help="the scenarios to run")
    parser.add_argument("--floor-work-us", nargs="*", type=float, default=[], metavar="US",
                        help="also run the echo server with this much busy CPU work per request (µs), each: what "
                             "a server with no overhead of its own but that cost per request achieves here")
    parser.add_argument("--decode-workers", type=int, default=0,
                        help="the sidecar's pipeline.decode_workers (0: decode in the scoring process)")
    parser.add_argument("--intake", choices=["inline", "thread"], default="inline",
                        help="pipeline.inline_intake: serve the socket on the scoring thread (default), or from an "
                             "I/O thread through an intake thread")
    parser.add_argument("--batch-format", choices=["lines", "frames"], default="lines",
                        help="how a batch's transactions travel: the lines of one frame (SCREEN_LINES, as "
                             "aegis.client sends a batch), or a frame each (SCREEN)")
    args = parser.parse_args()
    payloads = Payloads()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="aegis-bench-sidecar-") as tmp:
        for work in [0.0, *args.floor_work_us]:
            port = free_port()
            echo = subprocess.Popen([sys.executable, "-c", ECHO, f"tcp://127.0.0.1:{port}", str(work)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            label = f"zmq echo +{work:g} µs/req" if work else "zmq echo (floor)"
            try:
                results[label] = measure(label, f"tcp://127.0.0.1:{port}", echo, args, payloads, pings=False)
            finally:
                stop(echo)
        for fsync in args.fsync:
            workdir = Path(tmp) / fsync
            workdir.mkdir()
            port = free_port()
            proc = start_aegis(workdir, port, fsync, args.decode_workers, args.intake == "inline")
            try:
                results[f"aegis fsync={fsync}"] = measure(f"aegis fsync={fsync}", f"tcp://127.0.0.1:{port}", proc,
                                                          args, payloads)
            finally:
                stop(proc)
        (Path(tmp) / "capacity").mkdir()
        ceiling = capacity(Path(tmp) / "capacity", payloads)
        stages = stage_costs(Path(tmp) / "stages", payloads)
    print_table(results, args)
    print(f"Capacity for single requests, queued up and screened one per batch: {ceiling['requests_per_s']:,} "
          f"requests/s, {ceiling['cpu_us_per_request']} µs of the main thread per request\n")
    print("Screening stages in one process, median µs per batch (ZeroMQ reading and replying not included):")
    for name, costs in stages.items():
        print(f"  {name:<9} " + "  ".join(f"{stage} {costs[stage]:,.1f}" for stage in (*STAGES, "total")))
    print()
    print(json.dumps({"bench": "sidecar", "seconds": args.seconds, "runs": args.runs, "intake": args.intake,
                      "batch_format": args.batch_format,
                      "connections": args.connections, "cpus": os.cpu_count(), "python": platform.python_version(),
                      "scenarios": {s.name: {"batch": s.batch, "requests_per_s": s.requests_per_s, "tps": s.tps,
                                             "p99_target_ms": s.p99_target_ms} for s in scenarios(args)},
                      "results": results, "capacity_single": ceiling, "stage_us": stages}))
    return 0


def print_table(results: dict[str, dict], args: argparse.Namespace) -> None:
    print(f"\nSidecar latency, open loop, {args.connections} connections, median of {args.runs} runs of "
          f"{args.seconds:g} s, batches as {args.batch_format} ({os.cpu_count()} CPUs, load generator in the same "
          "machine)\n")
    header = f"{'server':<22} {'scenario':<28} {'achieved TPS':>12} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} " \
             f"{'busy':>6} {'main thr':>8} {'target p99':>10}"
    print(header)
    print("-" * len(header))
    for server, by_scenario in results.items():
        for s in scenarios(args):
            r = by_scenario[s.name]
            label = f"{s.name} ({s.batch}/req, {s.tps:,.0f} TPS)"
            verdict = "" if server.startswith("zmq") else ("met" if r["p99_ms"] <= s.p99_target_ms and not r["lost"]
                                                          else "MISSED")
            main = f"{r['main_thread_busy']:.0%}" if "main_thread_busy" in r else ""
            print(f"{server:<22} {label:<28} {r['tps']:>12,.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
                  f"{r['p999_ms']:>9.3f} {r['busy']:>6} {main:>8} {s.p99_target_ms:>6.1f} {verdict}")
    print()


if __name__ == "__main__":
    sys.exit(main())
