"""Fan-out of fleet events to listeners; a failing listener never stops the others."""

from __future__ import annotations

import logging
import threading

from fleet.events import FleetEvent, Listener

log = logging.getLogger(__name__)


class EventBus:
    """Synchronous fan-out: listeners must hand work off quickly (they run on the caller's thread)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        """Add a listener."""
        with self._lock:
            self._listeners = [*self._listeners, listener]

    def publish(self, event: FleetEvent) -> None:
        """Deliver one event to every listener."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("listener %r failed on %s", listener, type(event).__name__)
