"""Rollout waves: which benches go in which wave, and when failures halt a rollout (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: Where one bench stands in a rollout. ``queued``: its wave has not started; ``pending``: sent, not answered.
BenchState = Literal["queued", "pending", "applied", "rejected", "failed", "timed_out", "rolled_back"]
#: States that count against the halt rule.
FAILED_STATES: frozenset[str] = frozenset({"rejected", "failed", "timed_out"})
#: States that end a bench's part in its wave.
SETTLED_STATES: frozenset[str] = FAILED_STATES | {"applied"}


@dataclass(frozen=True, slots=True)
class WavePlan:
    """How a rollout is cut into waves: one canary bench, then ``percent`` % of the rest, then all the rest."""

    canary: str | None = None
    percent: float = 20.0

    def waves(self, bench_ids: Sequence[str]) -> list[list[str]]:
        """The benches of each wave, in order (no empty wave; the canary is the given one or the first id)."""
        if not 0 < self.percent <= 100:
            raise ValueError(f"percent: must be in (0, 100], got {self.percent}")
        ordered = sorted(set(bench_ids))
        if not ordered:
            return []
        canary = self.canary if self.canary is not None else ordered[0]
        if canary not in ordered:
            raise ValueError(f"canary: bench {canary!r} is not among the rollout's targets")
        rest = [b for b in ordered if b != canary]
        # Round up, so a small rest still gets a middle wave of at least one bench.
        middle = math.ceil(len(rest) * self.percent / 100)
        waves = [[canary], rest[:middle], rest[middle:]]
        return [w for w in waves if w]


@dataclass(frozen=True, slots=True)
class HaltRule:
    """When a wave's failures halt the rollout: any failure of the canary; above ``max_failure_pct`` % later."""

    max_failure_pct: float = 10.0

    def halts(self, wave: int, failed: int, total: int) -> bool:
        """Tell whether ``failed`` of ``total`` benches in wave ``wave`` (0 = the canary) stop the rollout."""
        if failed == 0 or total == 0:
            return False
        if wave == 0:
            return True
        return failed * 100 > self.max_failure_pct * total
