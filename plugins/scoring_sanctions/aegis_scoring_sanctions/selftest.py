"""``aegis self-test`` checks: lists loaded with versions, a listed name matches, a made-up name does not.

The checks screen through a fresh screener on the active index, so the production cache and
dispositions are not touched.
"""

from __future__ import annotations

from aegis.lifecycle import SelfTestResult
from aegis_scoring_sanctions.engine import SanctionsEngine
from aegis_scoring_sanctions.entries import ENTITY, INDIVIDUAL
from aegis_scoring_sanctions.matcher import Query, Screener

PLUGIN = "sanctions"
#: A name no list holds (checked: it shares no token with any list in the repository's test data).
UNLISTED = "Quillon Vextrabury Zandorff"


def self_test(engine: SanctionsEngine) -> list[SelfTestResult]:
    active = engine.active
    cfg = engine.config
    out = [SelfTestResult(PLUGIN, "lists loaded", bool(active.lists) and all(len(lst) for lst in active.lists),
                          active.summary())]
    screener = Screener(active.index, cfg.settings(), cache_size=0)
    for lst in active.lists:
        entry = next((e for e in lst.entries if e.kind in (INDIVIDUAL, ENTITY)), None)
        if entry is None:
            out.append(SelfTestResult(PLUGIN, f"{lst.list_name}: a listed name blocks", False,
                                      "no individual or entity entries"))
            continue
        result = screener.screen([Query(entry.primary_name)])[0]
        hit = next((m for m in result.matches if m.entry.key == entry.key), None)
        ok = hit is not None and hit.score >= cfg.block_at
        found = hit.describe() if hit else f"not found (best: {result.best.describe() if result.best else None})"
        out.append(SelfTestResult(PLUGIN, f"{lst.list_name}: a listed name blocks", ok,
                                  f"{entry.primary_name!r} -> {found}"))
    clean = screener.screen([Query(UNLISTED, person=True)])[0]
    out.append(SelfTestResult(PLUGIN, "an unlisted name clears", clean.score < cfg.review_at,
                              f"{UNLISTED!r} -> best score {clean.score:.3f} (review_at {cfg.review_at})"))
    return out
