"""The accelerated clock and the stepped clock (a ``twins.clock.ManualClock``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import AcceleratedClock, StepClock
from twins.clock import ManualClock

START = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)


class FakeMonotonic:
    """A monotonic source the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_accelerated_clock_runs_speed_times_faster() -> None:
    """One simulated day per real minute at 1440x."""
    mono = FakeMonotonic()
    clock = AcceleratedClock(START, speed=1440, monotonic=mono)
    assert clock.now() == START
    mono.t += 60.0
    assert clock.now() == START + timedelta(days=1)
    assert clock.elapsed() == timedelta(days=1)
    assert clock.real_seconds_until((START + timedelta(days=2)).timestamp()) == pytest.approx(60.0)
    assert clock.real_seconds_until(START.timestamp()) == 0.0


def test_speed_one_is_real_time() -> None:
    """At speed 1 simulated time advances like the wall clock."""
    mono = FakeMonotonic()
    clock = AcceleratedClock(START, speed=1, monotonic=mono)
    mono.t += 2.5
    assert clock.now() == START + timedelta(seconds=2.5)


@pytest.mark.parametrize("speed", [0, -3])
def test_speed_must_be_positive(speed: float) -> None:
    """A clock that stands still or runs backwards is refused with the reason."""
    with pytest.raises(ValueError, match="speed must be positive"):
        AcceleratedClock(START, speed=speed)


def test_naive_start_is_refused() -> None:
    """Simulated time is UTC: a naive start is an error, not a silent local time."""
    with pytest.raises(ValueError, match="aware"):
        AcceleratedClock(datetime(2026, 1, 1), speed=1)
    with pytest.raises(ValueError, match="aware"):
        StepClock(datetime(2026, 1, 1))


def test_instant_and_step_clocks() -> None:
    """The stepped clock is the one manual clock and only moves forward when told."""
    step = StepClock(START)
    assert isinstance(step, ManualClock)
    assert step.start == START
    step.advance(timedelta(minutes=5))
    assert step.now() == START + timedelta(minutes=5)
    assert step.real_seconds_until(START.timestamp()) == 0.0
    with pytest.raises(ValueError, match="never goes back"):
        step.advance(timedelta(seconds=-1))
