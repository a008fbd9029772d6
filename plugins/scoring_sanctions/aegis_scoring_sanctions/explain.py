"""Explanations for decision records: which list, entry, name and score; which disposition applied."""

from __future__ import annotations

from aegis_scoring_sanctions.matcher import ScreenResult


def party_detail(role: str, result: ScreenResult, review_at: float) -> str | None:
    """One party's explanation, or ``None`` when it neither matched nor had a match cleared.

    e.g. ``creditor 'Usama bin Ladin' matches UN-SC QDi.004 'USAMA MUHAMMED AWAD BIN LADEN' score 0.973``
    """
    parts = []
    best = result.best
    if best is not None and best.score >= review_at:
        text = f"{role} {result.query.name!r} matches {best.describe()}"
        others = sum(1 for m in result.matches[1:] if m.score >= review_at)
        if others:
            text += f" (+{others} more)"
        parts.append(text)
    if result.suppressed:
        parts.append(f"{role} {result.query.name!r}: " + "; ".join(result.suppressed))
    return " | ".join(parts) if parts else None
