"""Many agents on one thread: paho clients driven from a selector loop, no thread per bench.

The reference host for simulations. Each bench keeps its own paho client (own socket, own persistent
session, own last will); the host registers the sockets with ``selectors`` through paho's socket
callbacks, calls ``loop_read``/``loop_write`` when they are ready and ``loop_misc`` for keepalives,
reconnects with each transport's jittered backoff, and ticks every agent. Transport events reach the
agents synchronously (``sink`` = ``agent.handle``), which is safe because everything runs here.
"""

from __future__ import annotations

import logging
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twins.clock import Clock

from .agent import BenchAgent
from .transport.paho import PahoTransport

log = logging.getLogger(__name__)

MISC_INTERVAL_S = 1.0


@dataclass(eq=False)
class Member:
    """One bench in the host: its agent, its transport and when to try connecting again."""

    agent: BenchAgent
    transport: PahoTransport
    reconnect_at: float | None = 0.0
    sock: Any = field(default=None, repr=False)


class SelectorHost:
    """Runs any number of ``BenchAgent``s with non-threaded paho clients on the calling thread."""

    def __init__(self, clock: Clock, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.selector = selectors.DefaultSelector()
        self.members: list[Member] = []
        self._last_misc = 0.0

    def add(self, agent: BenchAgent, transport: PahoTransport) -> Member:
        """Adopt a bench; ``transport`` must have been built with ``sink=lambda e: agent.handle(e, now)``."""
        member = Member(agent, transport)
        client = transport.client
        client.on_socket_open = lambda _c, _u, sock: self._register(member, sock)
        client.on_socket_close = lambda _c, _u, sock: self._unregister(member, sock)
        client.on_socket_register_write = lambda _c, _u, sock: self._watch(member, sock, write=True)
        client.on_socket_unregister_write = lambda _c, _u, sock: self._watch(member, sock, write=False)
        self.members.append(member)
        return member

    # -- paho socket callbacks ---------------------------------------------------------------------
    def _register(self, member: Member, sock: Any) -> None:
        member.sock = sock
        self.selector.register(sock, selectors.EVENT_READ, member)

    def _unregister(self, member: Member, sock: Any) -> None:
        if member.sock is not None:
            self.selector.unregister(sock)
            member.sock = None
        # Disconnected: come back after the transport's jittered backoff.
        member.reconnect_at = self.monotonic() + (member.transport.reconnect_delay_s or 1.0)

    def _watch(self, member: Member, sock: Any, write: bool) -> None:
        if member.sock is None:
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        self.selector.modify(sock, events, member)

    # -- loop ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every agent (boot event, stored config to hardware); connections follow in ``run_once``."""
        now = self.clock.now()
        for member in self.members:
            member.agent.start(now)

    def _connect(self, member: Member) -> None:
        member.reconnect_at = None
        try:
            member.transport.connect_nonthreaded()
        except OSError as err:
            delay = member.transport.next_reconnect_delay()
            member.reconnect_at = self.monotonic() + delay
            log.debug("%s: connect failed (%s), retry in %.1f s", member.agent.bench_id, err, delay)

    def run_once(self, timeout_s: float = 0.05, tick: bool = True) -> None:
        """Serve ready sockets, run keepalives and due reconnects, then tick every agent once."""
        for key, mask in self.selector.select(timeout=timeout_s):
            member: Member = key.data
            client = member.transport.client
            if mask & selectors.EVENT_READ:
                client.loop_read()
            if mask & selectors.EVENT_WRITE and member.sock is not None:
                client.loop_write()
        mono = self.monotonic()
        if mono - self._last_misc >= MISC_INTERVAL_S:
            self._last_misc = mono
            for member in self.members:
                if member.sock is not None:
                    member.transport.client.loop_misc()
        for member in self.members:
            if member.sock is None and member.reconnect_at is not None and mono >= member.reconnect_at:
                self._connect(member)
        if tick:
            now = self.clock.now()
            for member in self.members:
                member.agent.tick(now)

    def stop(self) -> None:
        """Disconnect every client cleanly (each says offline first)."""
        for member in self.members:
            member.transport.stop(reason="shutdown")
        self.selector.close()
