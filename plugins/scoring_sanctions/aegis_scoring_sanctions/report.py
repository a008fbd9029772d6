"""The sanctions benchmark: quality and speed against the issue's baselines, as a table and one JSON line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aegis_scoring_sanctions.config import DEFAULT_BLOCK_AT, DEFAULT_REVIEW_AT, default_settings
from aegis_scoring_sanctions.evaluate import (
    Lists,
    baseline_scores,
    faker_negatives,
    measure_quality,
    measure_speed,
    perturbed,
    read_people,
    threshold_at_fpr,
)
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.sources import ListSource, load_lists

#: The peers' published figures the issue quotes (not measured here).
PEERS = {
    "watchman (Jaro-Winkler, OpenSanctions pairs)": "precision 0.986 / recall 0.689; ~0.85 ms per search on 4 cores",
    "yente / nomenklatura logic-v2": "recall 0.972 at 0.1 % FP, 0.996 at 0.5 % FP; 50–68 queries/s per core",
    "brute-force token_sort_ratio (issue)": "recall 0.984 at ~0.1 % FP; ~5,000 names/s on 2 cores",
}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(data: Path, console: Console | None = None, faker_count: int = 20_000) -> dict:
    """Measure everything; print the tables to ``console``; return the figures."""
    console = console or Console()
    settings = default_settings()
    review_at, block_at = DEFAULT_REVIEW_AT, DEFAULT_BLOCK_AT

    lists = Lists.load(data)
    speed_lists = load_lists([ListSource("ofac-csv", data / "ofac"),
                              ListSource("un-xml", data / "un" / "UN_consolidated.xml")])
    rss = _rss_bytes()
    start = time.perf_counter()
    speed_index = NameIndex.build(speed_lists)
    build_s = time.perf_counter() - start
    index_mib = (_rss_bytes() - rss) / 2**20

    extra = faker_negatives(faker_count) if faker_count else None
    quality = measure_quality(lists, data, settings, review_at, extra)

    negatives = [p for f in sorted((data / "eval").glob("negatives_*.csv")) for p in read_people(f)]
    positives = read_people(data / "eval" / "un_persons_clean.csv")
    names = [p.name for p in positives + negatives + (extra or [])]
    speed = measure_speed(speed_index, settings, names)

    present = [p for p, s in zip(positives, quality[False].scores["clean"], strict=True) if s >= review_at]
    pert_names = [q.name for seed in (1, 2, 3) for q in perturbed(present, seed, 1)]
    base_pos, _ = baseline_scores(lists.all, pert_names)
    base_neg, base_rate = baseline_scores(lists.all, [p.name for p in negatives])
    base_threshold = threshold_at_fpr(base_neg, 0.001)

    figures: dict = {
        "review_at": review_at, "block_at": block_at,
        "index_names": speed_index.n_names, "index_build_s": round(build_s, 3),
        "index_memory_mib": round(index_mib, 1), "list_load_s": round(lists.load_seconds, 3),
        "cold_names_per_s": round(speed["cold_names_per_s"]),
        "stream_names_per_s": round(speed["stream_names_per_s"]),
        "stream_distinct_share": round(speed["stream_distinct_share"], 3),
        "baseline_names_per_s": round(base_rate),
        "baseline_threshold": round(base_threshold, 3),
        "baseline_recall_perturbed_1": round(float((base_pos >= base_threshold).mean()), 4),
        "baseline_fpr": round(float((base_neg >= base_threshold).mean()), 4),
    }
    table = Table(title=f"Sanctions screening quality at review_at {review_at} (block_at {block_at})",
                  title_justify="left")
    table.add_column("set")
    table.add_column("n", justify="right")
    table.add_column("names only", justify="right")
    table.add_column("names + DOB + nationality", justify="right")
    rows = [("clean", "UN persons, recall vs UN list"), ("perturbed_1", "perturbed ×1 op, recall"),
            ("perturbed_2", "perturbed 1–2 ops, recall")]
    for key, label in rows:
        n = len(quality[False].scores[key])
        a, b = quality[False].recall(key, review_at), quality[True].recall(key, review_at)
        table.add_row(label, f"{n:,}", f"{a:.4f}", f"{b:.4f}")
        figures[f"recall_{key}"] = round(a, 4)
        figures[f"recall_{key}_evidence"] = round(b, 4)
    for key in quality[False].scores:
        if not key.startswith("neg_"):
            continue
        n = len(quality[False].scores[key])
        a, b = quality[False].false_positives(key, review_at), quality[True].false_positives(key, review_at)
        table.add_row(f"{key[4:]} negatives, false positives", f"{n:,}", f"{a} ({a / n:.2%})", f"{b} ({b / n:.2%})")
        figures[f"fpr_{key[4:]}"] = round(a / n, 5)
        figures[f"fpr_{key[4:]}_evidence"] = round(b / n, 5)
    console.print(table)

    speed_table = Table(title="Speed (one thread; OFAC SDN with aliases + UN list)", title_justify="left")
    speed_table.add_column("what")
    speed_table.add_column("figure", justify="right")
    speed_table.add_row("names indexed", f"{speed_index.n_names:,}")
    speed_table.add_row("index build", f"{build_s:.2f} s ({index_mib:.0f} MiB resident)")
    speed_table.add_row("cold: every name new, names/s", f"{speed['cold_names_per_s']:,.0f}")
    speed_table.add_row(f"payment stream ({speed['stream_distinct_share']:.0%} distinct), names/s",
                        f"{speed['stream_names_per_s']:,.0f}")
    speed_table.add_row("baseline brute force token_sort_ratio, names/s", f"{base_rate:,.0f}")
    speed_table.add_row("baseline recall (perturbed ×1) at its 0.1 % FP threshold",
                        f"{figures['baseline_recall_perturbed_1']:.4f} (threshold {base_threshold:.2f})")
    console.print(speed_table)
    peers = Table(title="Peers (published figures quoted by the issue)", title_justify="left")
    peers.add_column("peer")
    peers.add_column("figure")
    for k, v in PEERS.items():
        peers.add_row(k, v)
    console.print(peers)
    return figures


def main(data: Path) -> None:
    figures = run(data)
    print(json.dumps(figures))
