"""Injectable clocks: wall time in production, a settable clock in tests and the simulator."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current UTC time."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe, for tests and replays."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a clock never goes back")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (not earlier than now)."""
        with self._lock:
            when = when.astimezone(UTC)
            if when < self._now:
                raise ValueError("a clock never goes back")
            self._now = when


@functools.lru_cache(maxsize=8192)
def to_rfc3339(ts: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with a trailing ``Z`` (millisecond precision)."""
    # Every JSON timestamp goes through here (a twin has about nine): strftime made it a third of
    # encoding a twin for the events channel. isoformat is 2x faster, and the cache answers the
    # repeats (a batch's ``now``, a section's ts again in its meta) at once. Equal instants in any
    # zone are equal keys with the same answer, so the cache can't mix zones up.
    utc = ts if ts.tzinfo is UTC else ts.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
