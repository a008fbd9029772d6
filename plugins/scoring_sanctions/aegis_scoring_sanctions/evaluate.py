"""Measure quality and speed: what ``bench/sanctions.py`` and ``aegis sanctions bench`` print.

Quality on the shared evaluation data (``sanctions/eval``): recall on the UN persons against the UN
list, recall on perturbed versions of them (:mod:`~aegis_scoring_sanctions.perturb`, seeded), and
the false-positive rate of each negative set against all lists — with names only and with date of
birth and nationality as evidence. Speed: names per second on one thread, cold (every name new)
and on a payment-like stream (names repeat; the result cache answers repeats). The baseline is
the brute force the issue names: rapidfuzz ``token_sort_ratio`` of each query against every
individual name and alias (anyascii-transliterated), its threshold set at 0.1 % false positives.
"""

from __future__ import annotations

import csv
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aegis.pipeline import batch_gc
from aegis_scoring_sanctions.countries import country_code
from aegis_scoring_sanctions.entries import INDIVIDUAL, SanctionsList
from aegis_scoring_sanctions.index import NameIndex
from aegis_scoring_sanctions.matcher import MatchSettings, Query, Screener
from aegis_scoring_sanctions.perturb import perturb
from aegis_scoring_sanctions.sources import ListSource, load_lists

FAKER_LOCALES = ("ar_SA", "ar_AE", "fa_IR", "he_IL", "zh_CN", "zh_TW", "ko_KR", "ja_JP", "ru_RU", "uk_UA",
                 "en_US", "en_GB", "en_IN", "es_MX", "es_ES", "pt_BR", "fr_FR", "de_DE", "it_IT", "pl_PL",
                 "tr_TR", "hi_IN", "bn_BD", "vi_VN", "th_TH", "id_ID", "az_AZ", "ka_GE", "el_GR")


@dataclass(frozen=True)
class Person:
    """One evaluation row."""

    name: str
    date_of_birth: str | None
    nationality: str | None

    def query(self, evidence: bool) -> Query:
        if not evidence:
            return Query(self.name, person=True)
        return Query(self.name, self.date_of_birth, country_code(self.nationality), person=True)


def read_people(path: Path) -> list[Person]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [Person(r["full_name"], r.get("date_of_birth") or None, r.get("nationality") or None)
                for r in csv.DictReader(fh)]


def perturbed(people: list[Person], seed: int, max_ops: int) -> list[Person]:
    rng = random.Random(seed)
    return [Person(perturb(p.name, rng, max_ops=max_ops)[0], p.date_of_birth, p.nationality) for p in people]


def faker_negatives(n: int, seed: int = 7) -> list[Person] | None:
    """``n`` synthetic people from many locales (``faker``), or ``None`` when faker is not installed."""
    try:
        from faker import Faker
    except ImportError:
        return None
    rng = random.Random(seed)
    out = []
    per_locale = max(1, n // len(FAKER_LOCALES))
    for locale in FAKER_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        country = locale.split("_")[1]
        for _ in range(per_locale):
            parts = [fake.first_name(), *([fake.first_name()] if rng.random() < 0.3 else []), fake.last_name()]
            if locale in ("zh_CN", "zh_TW", "ko_KR", "ja_JP"):
                parts = [parts[-1], *parts[:-1]]
            year = rng.randint(1940, 2005)
            out.append(Person(" ".join(parts), f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", country))
    return out


@dataclass
class Lists:
    """The lists and indexes an evaluation screens against."""

    un: list[SanctionsList]
    all: list[SanctionsList]
    un_index: NameIndex
    all_index: NameIndex
    load_seconds: float

    @classmethod
    def load(cls, data: Path) -> Lists:
        start = time.perf_counter()
        lists = load_lists([ListSource("ofac-csv", data / "ofac"), ListSource("ofac-cons-csv", data / "ofac-nonsdn"),
                            ListSource("un-xml", data / "un" / "UN_consolidated.xml")])
        un = [lst for lst in lists if lst.list_name == "UN-SC"]
        return cls(un, lists, NameIndex.build(un), NameIndex.build(lists), time.perf_counter() - start)


@dataclass
class Quality:
    """Scores of every evaluation set, with and without evidence, and the figures at a threshold."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)

    def recall(self, name: str, threshold: float) -> float:
        return float(np.mean(self.scores[name] >= threshold)) if len(self.scores[name]) else 0.0

    def false_positives(self, name: str, threshold: float) -> int:
        return int(np.sum(self.scores[name] >= threshold))


def measure_quality(lists: Lists, data: Path, settings: MatchSettings, review_at: float,
                    negatives_extra: list[Person] | None) -> dict[bool, Quality]:
    """Scores of the positives (clean, perturbed) against UN and of the negatives against all lists."""
    clean = read_people(data / "eval" / "un_persons_clean.csv")
    negatives = {p.stem.removeprefix("negatives_"): read_people(p)
                 for p in sorted((data / "eval").glob("negatives_*.csv"))}
    if negatives_extra:
        negatives["faker"] = negatives_extra
    out: dict[bool, Quality] = {}
    for evidence in (False, True):
        un = Screener(lists.un_index, settings, cache_size=0)
        every = Screener(lists.all_index, settings, cache_size=0)
        quality = Quality()
        clean_scores = np.array([r.score for r in un.screen([p.query(evidence) for p in clean])])
        quality.scores["clean"] = clean_scores
        present = [p for p, s in zip(clean, clean_scores, strict=True) if s >= review_at]
        for ops in (1, 2):
            rows = [q for seed in (1, 2, 3) for q in perturbed(present, seed, ops)]
            quality.scores[f"perturbed_{ops}"] = np.array([r.score for r in un.screen([p.query(evidence)
                                                                                        for p in rows])])
        for name, rows in negatives.items():
            quality.scores[f"neg_{name}"] = np.array([r.score for r in every.screen([p.query(evidence)
                                                                                     for p in rows])])
        out[evidence] = quality
    return out


def measure_speed(index: NameIndex, settings: MatchSettings, names: list[str], stream_length: int = 200_000,
                  population: int = 20_000) -> dict[str, float]:
    """Names per second on this thread: every name new (cold), and a payment-like stream with repeats.

    Measured under the collector settings screening runs with (:func:`aegis.pipeline.batch_gc`).
    """
    with batch_gc():
        return _measure_speed(index, settings, names, stream_length, population)


def _measure_speed(index: NameIndex, settings: MatchSettings, names: list[str], stream_length: int,
                   population: int) -> dict[str, float]:
    unique = list(dict.fromkeys(names))
    cold = Screener(index, settings, cache_size=0)
    cold.screen([Query("warm up")])
    start = time.perf_counter()
    for i in range(0, len(unique), 4096):
        cold.screen([Query(n) for n in unique[i:i + 4096]])
    cold_rate = len(unique) / (time.perf_counter() - start)
    # A stream: names drawn from a population with a Zipf-like frequency (counterparties repeat).
    rng = np.random.default_rng(3)
    pool = unique[:population]
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.8
    draws = rng.choice(len(pool), size=stream_length, p=weights / weights.sum())
    stream = [pool[i] for i in draws]
    warm = Screener(index, settings)
    start = time.perf_counter()
    for i in range(0, len(stream), 4096):
        warm.screen([Query(n) for n in stream[i:i + 4096]])
    stream_rate = len(stream) / (time.perf_counter() - start)
    distinct = len(set(stream))
    return {"cold_names_per_s": cold_rate, "stream_names_per_s": stream_rate, "stream_distinct_share":
            distinct / len(stream)}


def baseline_scores(lists: list[SanctionsList], queries: list[str]) -> tuple[np.ndarray, float]:
    """Brute force: best ``token_sort_ratio`` (0–1) of each query against every individual name; names/s."""
    from anyascii import anyascii
    from rapidfuzz import fuzz, process, utils

    choices = sorted({anyascii(n.text) for lst in lists for e in lst.entries if e.kind == INDIVIDUAL
                      for n in e.names})
    prepared = [utils.default_process(c) for c in choices]
    start = time.perf_counter()
    best = np.zeros(len(queries))
    for i in range(0, len(queries), 512):
        chunk = [utils.default_process(anyascii(q)) for q in queries[i:i + 512]]
        matrix = process.cdist(chunk, prepared, scorer=fuzz.token_sort_ratio, workers=1, dtype=np.uint8)
        best[i:i + len(chunk)] = matrix.max(axis=1) / 100.0
    return best, len(queries) / (time.perf_counter() - start)


def threshold_at_fpr(negative_scores: np.ndarray, fpr: float) -> float:
    """The lowest threshold whose false-positive rate on ``negative_scores`` is at most ``fpr``."""
    ordered = np.sort(negative_scores)[::-1]
    allowed = int(np.floor(fpr * len(ordered)))
    return float(ordered[allowed]) + 1e-9 if allowed < len(ordered) else 0.0
