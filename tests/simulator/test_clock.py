"""The accelerated clock, the per-bench instant clock, the stepped clock and duration parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import AcceleratedClock, InstantClock, StepClock, parse_duration

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
    """The instant clock reads what was set; the stepped clock only moves forward when told."""
    instant = InstantClock(START)
    assert instant.now() == START
    step = StepClock(START)
    step.advance(timedelta(minutes=5))
    assert step.now() == START + timedelta(minutes=5)
    assert step.real_seconds_until(START.timestamp()) == 0.0
    with pytest.raises(ValueError, match="never goes back"):
        step.advance(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("365d", timedelta(days=365)), ("36h", timedelta(hours=36)), ("1d12h", timedelta(days=1, hours=12)),
     ("90m", timedelta(minutes=90)), ("45s", timedelta(seconds=45)), ("1.5h", timedelta(minutes=90))],
)  # fmt: skip
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Durations as the CLI and scenarios write them."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"), [("", "empty"), ("365", "no unit"), ("3w", "followed by"), ("0d", "positive")]
)
def test_bad_durations_name_the_text(text: str, message: str) -> None:
    """A bad duration says what is wrong."""
    with pytest.raises(ValueError, match=message):
        parse_duration(text)
