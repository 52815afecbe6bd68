"""An embedded MQTT broker (amqtt) on its own event-loop thread, for `benchfleet demo`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedBroker:
    """amqtt's broker, MQTT 3.1.1 with QoS 1 and retained messages, anonymous, loopback only."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def url(self) -> str:
        """Broker URL in the form BENCHFLEET_MQTT accepts."""
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        """Start the broker and wait until it accepts connections."""
        from amqtt.broker import Broker  # imported here: only the demo needs it

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 20000}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="embedded-broker", daemon=True)
        self._thread.start()

        async def boot() -> Any:
            broker = Broker(config)
            await broker.start()
            return broker

        # broker.start() returns once its listener is bound: no probe connection (amqtt logs those as errors).
        self._broker = asyncio.run_coroutine_threadsafe(boot(), loop).result(timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down and stop its loop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._broker is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop).result(timeout=timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=timeout)
        loop.close()
        self._loop = self._thread = self._broker = None
