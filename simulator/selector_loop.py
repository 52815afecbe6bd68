"""One selector loop driving many paho clients through paho's external-loop API (no thread per bench).

Each client registers its socket here through paho's ``on_socket_*`` callbacks; the loop calls
``loop_read`` when a socket is readable, ``loop_write`` for clients with queued packets, and
``loop_misc`` (keepalive pings) for every client about once a second, a slice per iteration.
"""

from __future__ import annotations

import contextlib
import math
import selectors
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

MISC_PERIOD_S = 1.0


class SelectorLoop:
    """The network side of a simulated fleet: sockets of many ``paho.mqtt.client.Client`` objects."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._want_write: set[mqtt.Client] = set()
        self._clients: list[mqtt.Client] = []
        self._misc_cursor = 0
        self._misc_last = time.monotonic()

    def attach(self, client: mqtt.Client) -> None:
        """Hook a client's socket callbacks to this loop (before it connects)."""
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write
        self._clients.append(client)

    @property
    def open_sockets(self) -> int:
        """Sockets registered right now."""
        return len(self.selector.get_map())

    # -- paho callbacks ----------------------------------------------------------------------------
    def _opened(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self.selector.register(sock, selectors.EVENT_READ, client)

    def _closed(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self._want_write.discard(client)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)

    def _register_write(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        # Written at the end of the current iteration; the selector only watches for writability when
        # the kernel buffer is full (rare), which saves a syscall per message.
        self._want_write.add(client)

    def _unregister_write(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self._want_write.discard(client)
        try:
            key = self.selector.get_key(sock)
        except (KeyError, ValueError):
            return
        if key.events & selectors.EVENT_WRITE:
            self.selector.modify(sock, selectors.EVENT_READ, client)

    # -- the loop ----------------------------------------------------------------------------------
    def poll(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for socket events, handle them, flush writes and do keepalives."""
        handled = 0
        for key, mask in self.selector.select(timeout_s if not self._want_write else 0.0):
            client: mqtt.Client = key.data
            if mask & selectors.EVENT_READ:
                client.loop_read()
            if mask & selectors.EVENT_WRITE:
                client.loop_write()
            handled += 1
        self.flush()
        self._misc()
        return handled

    def flush(self) -> None:
        """Write what clients queued; watch for writability only where the socket buffer is full."""
        for client in list(self._want_write):
            client.loop_write()
            if client.want_write():
                sock = client.socket()
                if sock is not None:
                    try:
                        self.selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)
                    except (KeyError, ValueError):
                        self._want_write.discard(client)
            else:
                self._want_write.discard(client)

    def _misc(self) -> None:
        now = time.monotonic()
        elapsed = now - self._misc_last
        count = len(self._clients)
        if count == 0 or elapsed <= 0:
            return
        share = min(count, math.ceil(count * elapsed / MISC_PERIOD_S))
        if share < max(1, count // 100) and elapsed < MISC_PERIOD_S:
            return  # wait until a worthwhile slice is due
        self._misc_last = now
        for _ in range(share):
            client = self._clients[self._misc_cursor % count]
            self._misc_cursor += 1
            if client.socket() is not None:
                client.loop_misc()

    def close(self) -> None:
        """Stop watching every socket."""
        self.selector.close()
