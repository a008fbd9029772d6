"""How long to wait before resending a request the server answered BUSY."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ``initial · factor^attempt``, capped at ``maximum`` seconds,
    each delay drawn from ``[delay · (1 - jitter), delay]`` so clients do not resend in lockstep."""

    initial: float = 0.001
    factor: float = 2.0
    maximum: float = 0.1
    jitter: float = 0.5

    def delay(self, attempt: int, at_least: float = 0.0) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based); never below ``at_least``."""
        base = min(self.maximum, self.initial * self.factor ** attempt)
        return max(at_least, base * (1.0 - self.jitter * random.random()))
