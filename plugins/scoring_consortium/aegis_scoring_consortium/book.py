"""The accepted signals, by entity pseudonym, and the count of rejected ones by reason."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from aegis_zkp_groth16.consortium import Verdict, parse_time

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Accepted:
    """What scoring needs of a verified signal (never its proof or public inputs)."""

    signal_id: str
    issuer: str
    role: str
    entity: str
    issued_at: datetime
    issued_at_ns: int
    origin: str


@dataclass(frozen=True)
class Rejection:
    origin: str
    signal_id: str | None
    verdict: Verdict


class SignalBook:
    """Accepted signals (swapped as a whole, so a scoring thread sees a consistent index) and
    rejection counts. Signal ids are remembered with their line's hash: a repeated identical line
    is skipped, a reused id with other content is rejected."""

    def __init__(self) -> None:
        self.by_entity: dict[str, tuple[Accepted, ...]] = {}
        self._accepted: dict[str, Accepted] = {}
        self._seen: dict[str, str] = {}  # signal id -> sha256 of its line
        self.rejected: Counter[str] = Counter()
        self.version = self._digest()

    def __len__(self) -> int:
        return len(self._accepted)

    def admit(self, signal_id: str, line: bytes) -> Verdict | None:
        """``None`` for a new signal, a rejection for a reused id, and ``Verdict(True, "repeat")`` for a
        line already read (nothing to do)."""
        digest = hashlib.sha256(line).hexdigest()
        seen = self._seen.get(signal_id)
        if seen is None:
            self._seen[signal_id] = digest
            return None
        if seen == digest:
            return Verdict(True, "repeat")
        return Verdict(False, f"{DUPLICATE}: signal id {signal_id} was already used by another signal")

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.verdict.code] += 1

    def accept(self, signals: list[tuple[dict, str]]) -> None:
        """Add verified ``(signal, origin)`` pairs and swap in the new index."""
        for signal, origin in signals:
            issued = parse_time(signal["issued_at"])
            self._accepted[signal["signal_id"]] = Accepted(
                signal["signal_id"], signal["issuer"], signal["role"], signal["entity"], issued,
                int(issued.timestamp()) * 1_000_000_000, origin)
        self._swap()

    def cap(self, most: int) -> int:
        """Keep the ``most`` newest signals (by issue time, then id); return how many were dropped.

        Depends only on the accepted set, never on the clock, so a replay holds the same signals.
        """
        if len(self._accepted) <= most:
            return 0
        oldest = sorted(self._accepted.values(), key=lambda a: (a.issued_at, a.signal_id))
        dropped = oldest[:len(oldest) - most]
        for a in dropped:
            del self._accepted[a.signal_id]
        self._swap()
        return len(dropped)

    def _swap(self) -> None:
        index: dict[str, list[Accepted]] = {}
        for a in sorted(self._accepted.values(), key=lambda a: (a.issued_at, a.signal_id)):
            index.setdefault(a.entity, []).append(a)
        self.by_entity = {k: tuple(v) for k, v in index.items()}
        self.version = self._digest()

    def _digest(self) -> str:
        ids = "\n".join(sorted(self._accepted))
        return "sha256:" + hashlib.sha256(ids.encode()).hexdigest()

    def summary(self) -> str:
        issuers = sorted({a.issuer for a in self._accepted.values()})
        rejected = sum(self.rejected.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items()))
        return (f"{len(self._accepted)} signal(s) accepted from {len(issuers)} member(s)"
                f"{' (' + ', '.join(issuers) + ')' if issuers else ''}; {rejected} rejected"
                f"{' (' + reasons + ')' if reasons else ''}")
