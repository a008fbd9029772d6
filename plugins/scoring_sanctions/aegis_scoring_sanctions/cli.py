"""``aegis sanctions``: screen a CSV of names against lists, and run the quality and speed benchmark."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import click

from aegis_scoring_sanctions.config import DEFAULT_REVIEW_AT, default_settings
from aegis_scoring_sanctions.countries import country_code
from aegis_scoring_sanctions.dispositions import Dispositions
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.matcher import Query, Screener
from aegis_scoring_sanctions.sources import ListSource, load_lists

OUT_COLUMNS = ("query", "matched", "score", "list", "entry_id", "matched_name", "evidence")


def _people(path: Path) -> list[Query]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "full_name" not in reader.fieldnames:
            raise click.UsageError(f"{path}: needs a header with a full_name column "
                                   f"(optional: date_of_birth, nationality, type); got {reader.fieldnames}")
        out = []
        for row in reader:
            dob = (row.get("date_of_birth") or "").strip() or None
            kind = (row.get("type") or "").strip().lower()
            out.append(Query(row["full_name"], dob, country_code(row.get("nationality")),
                             person=kind == "individual" or (dob is not None and kind != "entity")))
        return out


@click.group()
def sanctions() -> None:
    """Sanctions screening: screen names against lists, measure quality and speed."""


@sanctions.command()
@click.option("--list", "sources", multiple=True, required=True, metavar="FORMAT:PATH",
              help="a list to screen against, e.g. ofac-csv:DIR or un-xml:FILE (repeatable)")
@click.option("--names", "names_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with a full_name column (optional date_of_birth, nationality, type)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV to write: query, matched, score, list, entry_id, matched_name, evidence")
@click.option("--threshold", type=float, default=None, help="operating threshold (default: the plugin's review_at)")
@click.option("--dispositions", "disp_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="analysts' dispositions to apply (YAML or CSV)")
def screen(sources: tuple[str, ...], names_path: Path, out_path: Path, threshold: float | None,
           disp_path: Path | None) -> None:
    """Screen every row of --names against the lists and write the best match per row to --out."""
    lists = load_lists([ListSource.parse(s) for s in sources])
    threshold = DEFAULT_REVIEW_AT if threshold is None else threshold
    index = NameIndex.build(lists)
    dispositions = Dispositions.load(disp_path) if disp_path else None
    screener = Screener(index, default_settings(), dispositions)
    queries = _people(names_path)
    start = time.perf_counter()
    results = screener.screen(queries)
    seconds = time.perf_counter() - start
    matched = 0
    with out_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(OUT_COLUMNS)
        for result in results:
            best = result.best
            hit = best is not None and best.score >= threshold
            matched += hit
            writer.writerow([result.query.name, str(hit).lower(), f"{result.score:.4f}",
                             best.entry.list_name if best else "", best.entry.entry_id if best else "",
                             best.matched_name if best else "", "; ".join(best.evidence) if best else ""])
    versions = ", ".join(lst.version for lst in lists)
    click.echo(f"screened {len(queries):,} names against {versions} ({index.n_names:,} names indexed in "
               f"{index.build_seconds:.2f} s) in {seconds:.2f} s: {matched:,} matched at {threshold}; "
               f"wrote {out_path}")


@sanctions.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="the shared sanctions data folder (default: ../shared/data/sanctions from the working directory)")
@click.option("--faker", "faker_count", type=int, default=20_000, show_default=True,
              help="synthetic negatives to generate with faker (0: none)")
def bench(data: Path | None, faker_count: int) -> None:
    """Measure quality (recall, false positives) and speed; the same as python bench/sanctions.py."""
    import json

    from aegis_scoring_sanctions.report import run
    data = data or (Path.cwd() / ".." / "shared" / "data" / "sanctions").resolve()
    if not (data / "eval").is_dir():
        raise click.UsageError(f"{data}: no eval/ folder; pass --data to the shared sanctions data")
    click.echo(json.dumps(run(data, faker_count=faker_count)))
