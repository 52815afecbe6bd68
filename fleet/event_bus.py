"""Fan-out of fleet events to listeners; a failing listener never stops the others."""

from __future__ import annotations

import logging
import threading

from fleet.events import FleetEvent, Listener

log = logging.getLogger(__name__)


class EventBus:
    """Synchronous fan-out: listeners must hand work off quickly (they run on the caller's thread).

    ``publish`` is for events that happened in this process; ``inject`` is for events another process
    published (brought by fleet.event_relay): those reach every listener except the ``local_only``
    ones, so the relay never sends an event back where it came from.
    """

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, bool]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener, *, local_only: bool = False) -> None:
        """Add a listener; ``local_only`` ones see only events published in this process."""
        with self._lock:
            self._listeners = [*self._listeners, (listener, local_only)]

    def publish(self, event: FleetEvent) -> None:
        """Deliver an event of this process to every listener."""
        for listener, _local_only in self._listeners:
            self._deliver(listener, event)

    def inject(self, event: FleetEvent) -> None:
        """Deliver an event of another process to every listener but the local-only ones."""
        for listener, local_only in self._listeners:
            if not local_only:
                self._deliver(listener, event)

    @staticmethod
    def _deliver(listener: Listener, event: FleetEvent) -> None:
        try:
            listener(event)
        except Exception:
            log.exception("listener %r failed on %s", listener, type(event).__name__)
