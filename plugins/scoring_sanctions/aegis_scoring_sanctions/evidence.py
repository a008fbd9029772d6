"""Date of birth and country as supporting or contradicting evidence for a name match.

A query's date of birth (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) that agrees with one of the
entry's listed dates raises the score; one that is years away from all of them lowers it. A country
(nationality or the party's country) among the entry's countries raises it a little; one outside a
non-empty set lowers it a little (people move: this is weak evidence). No data, no change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aegis_scoring_sanctions.entries import BirthDate, ListEntry

_DOB = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True)
class EvidenceWeights:
    """How much each kind of evidence moves a name score."""

    dob_exact_bonus: float = 0.06
    dob_year_bonus: float = 0.03
    dob_mismatch_penalty: float = 0.2
    dob_tolerance_years: int = 1
    country_match_bonus: float = 0.02
    country_mismatch_penalty: float = 0.04


def parse_query_dob(value: str | None) -> tuple[int, int, int] | None:
    """``(year, month, day)`` of a query's date of birth (0 where unknown), ``None`` if absent or unreadable."""
    if not value:
        return None
    match = _DOB.match(value.strip())
    if match is None:
        return None
    year, month, day = match.groups()
    return int(year), int(month or 0), int(day or 0)


def _dob_agreement(dob: tuple[int, int, int], listed: BirthDate, tolerance: int) -> str:
    """``exact``, ``year``, ``near`` or ``far`` for one listed date."""
    year, month, day = dob
    slack = tolerance + (1 if listed.approximate else 0)
    if listed.year_from <= year <= listed.year_to:
        if listed.year_from == listed.year_to and listed.month and month:
            if listed.month != month or (listed.day and day and listed.day != day):
                return "near"  # same year, another day: a typo or another person
            if listed.day and day:
                return "exact"
        return "year"
    if listed.year_from - slack <= year <= listed.year_to + slack:
        return "near"
    return "far"


def adjust(score: float, entry: ListEntry, dob: tuple[int, int, int] | None, country: str | None,
           weights: EvidenceWeights) -> tuple[float, tuple[str, ...]]:
    """The name score moved by date-of-birth and country evidence, and what moved it."""
    notes: list[str] = []
    if dob is not None and entry.birth_dates:
        found = {_dob_agreement(dob, d, weights.dob_tolerance_years) for d in entry.birth_dates}
        listed = ", ".join(map(str, entry.birth_dates[:3]))
        if "exact" in found:
            score += weights.dob_exact_bonus
            notes.append(f"date of birth matches ({listed})")
        elif "year" in found:
            score += weights.dob_year_bonus
            notes.append(f"year of birth matches ({listed})")
        elif "near" not in found:
            score -= weights.dob_mismatch_penalty
            notes.append(f"date of birth differs (listed {listed})")
    if country and entry.countries:
        if country in entry.countries:
            score += weights.country_match_bonus
            notes.append(f"country {country} listed")
        else:
            score -= weights.country_mismatch_penalty
            notes.append(f"country {country} not listed ({', '.join(sorted(entry.countries)[:4])})")
    return min(max(score, 0.0), 1.0), tuple(notes)
