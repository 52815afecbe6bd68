"""Reconnect delays: exponential backoff with full jitter, so 10,000 benches do not reconnect in step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before the next reconnect attempt: random in [min, cap] where cap doubles per failure."""

    min_s: float = 1.0
    max_s: float = 120.0
    rng: random.Random = field(default_factory=random.Random)
    _attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        cap = min(self.max_s, self.min_s * 2**self._attempt)
        self._attempt = min(self._attempt + 1, 32)
        return self.rng.uniform(self.min_s, max(self.min_s, cap))

    def reset(self) -> None:
        """A connection succeeded: start from the minimum again."""
        self._attempt = 0
