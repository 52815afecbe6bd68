"""Hosting one agent in its own process: paho's network thread enqueues events, one loop handles them.

The agent core never sees another thread: transport callbacks only put ``TransportEvent`` values into
a queue; ``pump`` handles them and ticks the agent on the host's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import ParamSpec

from twins.clock import Clock

from .agent import BenchAgent
from .transport.base import TransportEvent
from .transport.paho import PahoTransport

_P = ParamSpec("_P")

log = logging.getLogger(__name__)

#: Exit code asking the service manager to start the agent again (after OTA, rollback or ``reboot``).
RESTART_EXIT_CODE = 75
TICK_S = 1.0
FLUSH_TIMEOUT_S = 3.0


class AgentHost:
    """Drives one ``BenchAgent`` from a thread-safe event queue."""

    def __init__(self, agent: BenchAgent, transport: PahoTransport, events: queue.Queue[TransportEvent], clock: Clock):
        self.agent = agent
        self.transport = transport
        self.events = events
        self.clock = clock

    def start(self) -> None:
        """Start the agent (hardware to stored config, boot event) and connect."""
        self.agent.start(self.clock.now())
        self.transport.start()

    def pump(self, timeout_s: float = 0.0) -> int:
        """Handle queued transport events (waiting up to ``timeout_s`` for the first) and tick once."""
        handled = 0
        try:
            event = self.events.get(timeout=timeout_s) if timeout_s > 0 else self.events.get_nowait()
            while True:
                self._guarded(self.agent.handle, event, self.clock.now())
                handled += 1
                event = self.events.get_nowait()
        except queue.Empty:
            pass
        self._guarded(self.agent.tick, self.clock.now())
        return handled

    def _guarded(self, call: Callable[_P, None], *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Run one step; a bug in one step is logged and the bench keeps protecting its battery."""
        try:
            call(*args, **kwargs)
        except Exception:
            log.exception("%s: agent step %s failed", self.agent.bench_id, getattr(call, "__name__", call))

    def run(self, stop: threading.Event, tick_s: float = TICK_S) -> int:
        """Loop until ``stop`` is set (exit 0) or the agent asks for a restart (RESTART_EXIT_CODE)."""
        while not stop.is_set() and self.agent.restart_requested is None:
            self.pump(timeout_s=tick_s)
        reason = self.agent.restart_requested
        if reason is not None:
            self._flush()
        self.transport.stop(reason=f"restart: {reason}" if reason else "shutdown")
        return RESTART_EXIT_CODE if reason is not None else 0

    def _flush(self) -> None:
        """Give queued answers (cmd_result, ota_progress) a moment to leave; they survive in the outbox anyway."""
        deadline = threading.Event()
        timer = threading.Timer(FLUSH_TIMEOUT_S, deadline.set)
        timer.start()
        try:
            while not deadline.is_set() and self.agent.outbox.count() > 0 and self.transport.is_connected():
                self.pump(timeout_s=0.05)
        finally:
            timer.cancel()
