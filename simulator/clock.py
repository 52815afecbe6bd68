"""Simulated time: an accelerated clock (real time at speed 1) and a stepped one, both ``twins.clock.Clock``.

The runner never lets wall-clock jitter into what a bench measures: every tick of a bench happens at an
exact instant of its own schedule (``start + phase + k * interval``), so a run is reproducible from its
seed; the accelerated clock only decides *when in real time* those instants are reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from twins.clock import ManualClock


class AcceleratedClock:
    """``start + (monotonic() - t0) * speed``: one simulated day per real minute at speed 1440."""

    def __init__(self, start: datetime, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs an aware start datetime (UTC)")
        if not speed > 0:
            raise ValueError(f"speed must be positive (simulated seconds per real second), got {speed}")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._start_s = self.start.timestamp()

    def now(self) -> datetime:
        """The simulated time now."""
        return datetime.fromtimestamp(self.now_s(), UTC)

    def now_s(self) -> float:
        """The simulated time now as UTC epoch seconds (cheap: no datetime)."""
        return self._start_s + (self._monotonic() - self._t0) * self.speed

    def real_seconds_until(self, t_s: float) -> float:
        """Real seconds until the simulated instant ``t_s`` (0 if it is past)."""
        return max(0.0, (t_s - self.now_s()) / self.speed)

    def elapsed(self) -> timedelta:
        """Simulated time since the start."""
        return timedelta(seconds=self.now_s() - self._start_s)


class StepClock(ManualClock):
    """Simulated time that moves only when told (tests): ``twins.clock.ManualClock`` as the runner needs it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.start = self.now()

    def now_s(self) -> float:
        """The simulated time as UTC epoch seconds."""
        return self.now().timestamp()

    def real_seconds_until(self, t_s: float) -> float:
        """Nothing happens by itself: a short wait, so the loop keeps serving the network."""
        return 0.0 if t_s <= self.now_s() else 0.01
