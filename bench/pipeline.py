"""Pipeline benchmark: end-to-end TPS and batch latency on the PaySim sample, and the rules
kernel alone, each next to a plain-Python implementation of the same work in the same process.

    python bench/pipeline.py [--runs 3] [--baseline-rows 40000]

End to end = file ingress (PaySim CSV) → decode/validate (2 worker processes) → rules (numba) → decide → JSONL audit
(fsync per batch) → acknowledge. The baseline does the same work one transaction at a time in
plain Python (csv, pydantic per record, the rules plugin's reference implementation, json,
write + fsync per batch). Figures are medians of ``--runs`` runs. The last line of output is one
JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import numpy as np

from aegis.config import parse_outline
from aegis.decide import DecisionConfig
from aegis.deployment import started
from aegis.model import TRANSACTION, AccountIndex, country_code
from aegis.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AEGIS_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
PAYSIM = DATA / "fraud" / "paysim"
FATF = DATA / "country_risk" / "fatf_lists.csv"
BATCH = 4096
#: The demo deployment's rules: PaySim amounts are large mobile-money units, so velocity counts payments.
RULES = {"geo": {"fatf_list": str(FATF)},
         "velocity": {"windows": [{"window": "1h", "max_count": 5}, {"window": "24h", "max_count": 20}]}}


def deployment(workdir: Path) -> dict:
    return {
        "deployment": "bench", "security_mode": "permissive", "log_level": "WARNING",
        "secrets": {"plugin": "env", "config": {"key_dir": str(workdir / "keys")}},
        "ingress": [{"plugin": "file", "config": {"path": str(PAYSIM), "format": "paysim"}}],
        "scoring": [{"plugin": "rules", "config": RULES}],
        "audit": [{"plugin": "jsonl", "config": {"path": str(workdir / "audit.jsonl"), "fsync": "batch"}}],
        "pipeline": {"batch_size": BATCH, "queue_batches": 8, "decode_workers": 2,
                     "state_dir": str(workdir / "state")},
    }


def run_pipeline() -> dict:
    with tempfile.TemporaryDirectory(prefix="aegis-bench-") as tmp:
        config = parse_outline(deployment(Path(tmp)), environ={})
        with started(config) as host:
            summary = Pipeline(host, config).run()
    return summary.as_dict()


def paysim_rows(limit: int | None = None):
    n = 0
    for part in sorted(PAYSIM.glob("rawLog.part*.csv")):
        with open(part, newline="") as f:
            for row in csv.reader(f):
                if row[0] == "step":
                    continue
                yield row
                n += 1
                if limit is not None and n >= limit:
                    return


def baseline_end_to_end(rows: int, workdir: Path) -> dict:
    """The same work, one transaction at a time, in plain Python."""
    import uuid
    from datetime import datetime, timedelta

    from aegis_scoring_rules.config import RulesConfig
    from aegis_scoring_rules.fatf import read_fatf_list
    from aegis_scoring_rules.reference import ReferenceRules

    rules_config = RulesConfig.model_validate(RULES)
    reference = ReferenceRules(rules_config, read_fatf_list(FATF, rules_config.geo.status_scores))
    decision = DecisionConfig()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    namespace = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
    accounts: dict[str, int] = {}
    out = open(workdir / "baseline.jsonl", "a")
    latencies = []
    t0 = time.perf_counter()
    batch_start = time.perf_counter()
    n = 0
    for i, row in enumerate(paysim_rows(rows)):
        doc = {"uetr": str(uuid.uuid5(namespace, f"paysim:{i}")),
               "created_at": (start + timedelta(hours=int(row[0]), milliseconds=i % 3_600_000)).isoformat(),
               "amount": row[2], "currency": "EUR", "channel": row[1],
               "debtor": {"account": row[3]}, "creditor": {"account": row[6]},
               "debtor_balance_before": row[4], "creditor_balance_before": row[7]}
        try:
            tx = TRANSACTION.validate_python(doc)
        except Exception:
            continue
        account = accounts.setdefault(tx.debtor.account, len(accounts))
        s = reference.score_arrays(np.array([account]), np.array([float(tx.amount)]),
                                   np.array([int(tx.created_at.timestamp() * 1e9)]),
                                   np.array([country_code(tx.debtor.country)], dtype=np.int16),
                                   np.array([country_code(tx.creditor.country)], dtype=np.int16))
        factors = {"VELOCITY": s.velocity[0], "AMOUNT": s.amount[0], "GEO": s.geo[0]}
        contributions = {k: decision.weight(k) * v for k, v in factors.items()}
        risk = min(1.0, sum(contributions.values()))
        verdict = "BLOCK" if risk >= decision.block_at else "INVESTIGATE" if risk >= decision.investigate_at \
            else "CLEAR"
        out.write(json.dumps({"uetr": str(tx.uetr), "decision": verdict, "risk_score": risk,
                              "risk_factors": contributions, "transaction": tx.model_dump(mode="json")}) + "\n")
        n += 1
        if n % BATCH == 0:
            out.flush()
            os.fsync(out.fileno())
            now = time.perf_counter()
            latencies.append(now - batch_start)
            batch_start = now
    out.flush()
    os.fsync(out.fileno())
    out.close()
    seconds = time.perf_counter() - t0
    return {"tps": n / seconds, "batch_latency_p50_ms": float(np.percentile(latencies, 50) * 1e3),
            "batch_latency_p99_ms": float(np.percentile(latencies, 99) * 1e3)}


def kernel_columns() -> dict[str, np.ndarray]:
    """PaySim as the columns the kernel sees (decoded once, through the real decoder)."""
    from aegis.decode import decode
    from aegis.testing.harness import PluginHarness
    accounts = AccountIndex()
    cols: dict[str, list] = {k: [] for k in ("debtor_account", "amount", "created_at_ns", "debtor_country",
                                             "creditor_country")}
    with tempfile.TemporaryDirectory() as tmp, \
            PluginHarness("ingress", "file", {"path": str(PAYSIM), "format": "paysim"}, Path(tmp)) as h:
        while True:
            raw = h.call("aegis_ingress_poll", max_records=16384)
            if raw is None:
                continue
            batch, _ = decode(raw, accounts)
            if batch is not None:
                for k in cols:
                    cols[k].append(getattr(batch, k))
            if raw.final:
                break
    return {k: np.concatenate(v) for k, v in cols.items()}


def bench_kernel(cols: dict[str, np.ndarray], runs: int, baseline_rows: int) -> dict:
    from aegis_scoring_rules.config import RulesConfig
    from aegis_scoring_rules.engine import RulesEngine
    from aegis_scoring_rules.fatf import read_fatf_list
    from aegis_scoring_rules.reference import ReferenceRules

    config = RulesConfig.model_validate(RULES)
    n = len(cols["amount"])
    order = ("debtor_account", "amount", "created_at_ns", "debtor_country", "creditor_country")
    batches = [[cols[k][i:i + BATCH] for k in order] for i in range(0, n, BATCH)]
    rates = []
    for _ in range(runs):
        engine = RulesEngine(config)
        engine.warm()
        t0 = time.perf_counter()
        for b in batches:
            engine.score_arrays(*b)
        rates.append(n / (time.perf_counter() - t0))
    reference = ReferenceRules(config, read_fatf_list(FATF, config.geo.status_scores))
    m = min(baseline_rows, n)
    t0 = time.perf_counter()
    for i in range(0, m, BATCH):
        reference.score_arrays(*[cols[k][i:min(i + BATCH, m)] for k in order])
    baseline = m / (time.perf_counter() - t0)
    return {"rules_kernel_tps": statistics.median(rates), "baseline_rules_tps": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=40_000)
    args = parser.parse_args()
    if not PAYSIM.is_dir():
        sys.exit(f"PaySim data not found at {PAYSIM} (set AEGIS_DATA_DIR)")
    machine = f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} " \
              f"{platform.python_version()}"
    print(f"machine: {machine}")

    print("rules kernel (numba, one core, batches of 4096) vs plain Python reference ...", flush=True)
    kernel = bench_kernel(kernel_columns(), args.runs, args.baseline_rows)
    print(f"  rules kernel   {kernel['rules_kernel_tps']:>14,.0f} tx/s")
    print(f"  plain Python   {kernel['baseline_rules_tps']:>14,.0f} tx/s   "
          f"ratio {kernel['rules_kernel_tps'] / kernel['baseline_rules_tps']:.1f}x")

    print(f"end to end on PaySim ({args.runs} runs) ...", flush=True)
    runs = []
    for i in range(args.runs):
        s = run_pipeline()
        runs.append(s)
        print(f"  run {i + 1}: {s['transactions']:,} tx + {s['rejects']:,} rejects in {s['seconds']:.2f} s = "
              f"{s['tps']:,.0f} TPS, batch p50 {s['batch_latency_p50_ms']:.1f} ms p99 "
              f"{s['batch_latency_p99_ms']:.1f} ms", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_end_to_end(args.baseline_rows, Path(tmp))
    e2e_tps = statistics.median(r["tps"] for r in runs)
    print(f"  Aegis pipeline {e2e_tps:>14,.0f} TPS (median)")
    print(f"  plain Python   {base['tps']:>14,.0f} TPS ({args.baseline_rows:,} rows)   "
          f"ratio {e2e_tps / base['tps']:.1f}x")
    figures = {
        "e2e_tps": round(e2e_tps),
        "e2e_batch_p50_ms": round(statistics.median(r["batch_latency_p50_ms"] for r in runs), 2),
        "e2e_batch_p99_ms": round(statistics.median(r["batch_latency_p99_ms"] for r in runs), 2),
        "baseline_e2e_tps": round(base["tps"]),
        "baseline_batch_p50_ms": round(base["batch_latency_p50_ms"], 2),
        "baseline_batch_p99_ms": round(base["batch_latency_p99_ms"], 2),
        "e2e_ratio": round(e2e_tps / base["tps"], 2),
        "rules_kernel_tps": round(kernel["rules_kernel_tps"]),
        "baseline_rules_tps": round(kernel["baseline_rules_tps"]),
        "rules_ratio": round(kernel["rules_kernel_tps"] / kernel["baseline_rules_tps"], 1),
        "transactions": runs[0]["transactions"], "rejects": runs[0]["rejects"],
        "machine": machine,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
