"""Simulated time: an accelerated clock (real time at speed 1) implementing ``twins.clock.Clock``.

The runner never lets wall-clock jitter into what a bench measures: every tick of a bench happens at an
exact instant of its own schedule (``start + phase + k * interval``), so a run is reproducible from its
seed; the accelerated clock only decides *when in real time* those instants are reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


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


class InstantClock:
    """A clock that reads whatever instant its owner set: one per simulated bench, set before each tick.

    The hardware reads it, so the physics is stepped exactly at the bench's scheduled instants and not at
    the moment a network event happens to be handled.
    """

    __slots__ = ("t",)

    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        """The instant last set."""
        return self.t


def parse_duration(text: str) -> timedelta:
    """Parse ``365d``, ``36h``, ``90m``, ``45s`` or combinations such as ``1d12h``; ValueError naming the text."""
    units = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
    value = text.strip().lower()
    total, number = 0.0, ""
    if not value:
        raise ValueError("duration is empty; use e.g. 365d, 36h, 90m or 1d12h")
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise ValueError(f"duration {text!r}: use a number followed by d, h, m or s, e.g. 365d or 1d12h")
    if number:
        raise ValueError(f"duration {text!r}: the last number has no unit (d, h, m or s)")
    if total <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return timedelta(seconds=total)


class StepClock:
    """Simulated time that moves only when told (tests): the runner's ticks fire as ``advance`` passes them."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("StepClock needs an aware start datetime (UTC)")
        self.start = start.astimezone(UTC)
        self._now_s = self.start.timestamp()

    def now(self) -> datetime:
        """The simulated time now."""
        return datetime.fromtimestamp(self._now_s, UTC)

    def now_s(self) -> float:
        """The simulated time as UTC epoch seconds."""
        return self._now_s

    def real_seconds_until(self, t_s: float) -> float:
        """Nothing happens by itself: a short wait, so the loop keeps serving the network."""
        return 0.0 if t_s <= self._now_s else 0.01

    def advance(self, delta: timedelta) -> None:
        """Move simulated time forward."""
        if delta < timedelta(0):
            raise ValueError("a clock never goes back")
        self._now_s += delta.total_seconds()
