"""Abuse limits of the kiosk: a sliding-window rate limit on votes per touchscreen."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from twins.clock import Clock


class RateLimit:
    """At most ``max_events`` within ``window``; thread-safe."""

    def __init__(self, clock: Clock, max_events: int, window: timedelta) -> None:
        self.clock = clock
        self.max_events = max_events
        self.window = window
        self._times: deque[datetime] = deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Count one event if the window has room; False if the limit is reached."""
        now = self.clock.now()
        with self._lock:
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.max_events:
                return False
            self._times.append(now)
            return True
