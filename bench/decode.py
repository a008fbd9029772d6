"""Decoding benchmark: JSON transactions to validated batch columns, on one core.

    python bench/decode.py [--runs 5] [--batch 4096]

Three cases, each the best of ``--runs`` over batches of ``--batch`` sample transactions with fresh
UETRs: ``warm`` (5,000 accounts that repeat, so parties and IBANs are already known), ``new
accounts`` (every account new: each IBAN is checked, with the caches cleared before each run),
and the ``pydantic`` baseline (the same columns and canonical JSON through the model alone, as the
decoder's slow path makes them) in the same process. The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid

import orjson

from aegis import fast_decode
from aegis.decode import decode_columns
from aegis.model import TRANSACTION, BatchColumns, TransactionRow, _account
from aegis.pipeline import batch_gc
from aegis.testing.samples import transactions


def payloads(batch: int, accounts: int, seed: int) -> list[bytes]:
    return [orjson.dumps({**t, "uetr": str(uuid.uuid4())}) for t in transactions(batch, seed=seed, accounts=accounts)]


def pydantic_path(batch: list[bytes], origins: list[str]) -> BatchColumns:
    """The same columns through the model alone (the decoder's slow path for every record)."""
    rows = []
    for payload in batch:
        model = TRANSACTION.validate_json(payload)
        rows.append(TransactionRow.of(model, TRANSACTION.dump_json(model, exclude_none=True)))
    return BatchColumns.of_rows(rows, origins)


def best_us(work, runs: int, per: int, cold: bool = False) -> float:
    best = float("inf")
    for _ in range(runs):
        if cold:
            _account.cache_clear()
            fast_decode._PARTIES.clear()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best * 1e6 / per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4096)
    args = parser.parse_args()
    n = args.batch
    origins = [str(i) for i in range(n)]
    warm, new = payloads(n, 5000, 11), payloads(n, 2_000_000, 21)
    with batch_gc():
        decode_columns(warm, origins, {}, [])  # parties and IBANs of the warm set become known
        figures = {
            "warm_us_per_tx": best_us(lambda: decode_columns(warm, origins, {}, []), args.runs, n),
            "new_accounts_us_per_tx": best_us(lambda: decode_columns(new, origins, {}, []), args.runs, n, cold=True),
            "pydantic_us_per_tx": best_us(lambda: pydantic_path(warm, origins), args.runs, n),
        }
    figures = {k: round(v, 2) for k, v in figures.items()}
    figures["warm_tps"] = round(1e6 / figures["warm_us_per_tx"])
    figures["ratio_warm_vs_pydantic"] = round(figures["pydantic_us_per_tx"] / figures["warm_us_per_tx"], 1)
    print(f"decoding {n} JSON transactions a batch, best of {args.runs} ({os.cpu_count()} CPUs, "
          f"Python {platform.python_version()})")
    print(f"  warm (accounts repeat)   {figures['warm_us_per_tx']:7.2f} µs/tx   {figures['warm_tps']:,} tx/s")
    print(f"  every account new        {figures['new_accounts_us_per_tx']:7.2f} µs/tx")
    print(f"  pydantic model, baseline {figures['pydantic_us_per_tx']:7.2f} µs/tx   "
          f"({figures['ratio_warm_vs_pydantic']}x the fast path)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
