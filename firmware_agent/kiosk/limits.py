"""Abuse limits of the kiosk: sliding windows per bench and per poll that no cookie can reset.

The touchscreen is public: anyone (or a script on a laptop in the bench's Wi-Fi) can start a new kiosk
session at will, so per-session rules only stop accidental double votes. What bounds stuffing is a budget
of the bench itself, in several windows at once (a minute, an hour, a day), kept per poll as well, so that
a script exhausting one poll's budget leaves the other polls usable, and its damage per day is capped.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from twins.clock import Clock


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``count`` events within ``span``."""

    count: int
    span: timedelta


#: A bench serves a handful of people a minute at most; a day of 24 h busy use is a few hundred votes.
BENCH_WINDOWS: tuple[Window, ...] = (
    Window(6, timedelta(minutes=1)),
    Window(60, timedelta(hours=1)),
    Window(300, timedelta(days=1)),
)
POLL_WINDOWS: tuple[Window, ...] = (
    Window(4, timedelta(minutes=1)),
    Window(40, timedelta(hours=1)),
    Window(200, timedelta(days=1)),
)


def scaled(windows: Sequence[Window], factor: float) -> tuple[Window, ...]:
    """The same windows with every count multiplied by ``factor`` (at least 1 each)."""
    return tuple(Window(max(1, math.ceil(w.count * factor)), w.span) for w in windows)


class Quota:
    """Sliding-window budgets per key (``bench`` and ``poll:<id>``); thread-safe, on an injectable clock."""

    def __init__(
        self, clock: Clock, bench: Sequence[Window] = BENCH_WINDOWS, per_poll: Sequence[Window] = POLL_WINDOWS
    ) -> None:
        self.clock = clock
        self.bench = tuple(bench)
        self.per_poll = tuple(per_poll)
        self._times: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _room(self, key: str, windows: tuple[Window, ...], now: datetime) -> bool:
        times = self._times.setdefault(key, deque())
        longest = max((w.span for w in windows), default=timedelta(0))
        while times and times[0] <= now - longest:
            times.popleft()
        return all(sum(1 for t in times if t > now - w.span) < w.count for w in windows)

    def allow(self, poll_id: str) -> bool:
        """Spend one vote of the bench's and the poll's budgets if both have room; False (nothing spent) if not."""
        now = self.clock.now()
        key = f"poll:{poll_id}"
        with self._lock:
            if not (self._room("bench", self.bench, now) and self._room(key, self.per_poll, now)):
                return False
            self._times["bench"].append(now)
            self._times[key].append(now)
            return True
