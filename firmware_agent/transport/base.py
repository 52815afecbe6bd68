"""The agent's view of MQTT: a small Transport Protocol and the events a transport hands to the agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Connected:
    """The broker accepted the connection; ``will_ts`` is the timestamp inside the registered last will."""

    session_present: bool
    will_ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection is gone (the transport reconnects by itself)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Received:
    """A message arrived on a subscribed topic."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Published:
    """The broker acknowledged the QoS 1 publish with message id ``mid`` (PUBACK)."""

    mid: int


TransportEvent = Connected | Disconnected | Received | Published
"""Everything a transport reports to the agent."""


class Transport(Protocol):
    """What the agent needs from an MQTT client.

    A QoS 1 publish accepted while connected (a ``mid`` returned) is either acknowledged through a
    ``Published`` event, possibly after a reconnect (the client keeps and resends it), or lost with the
    whole client; a host that replaces a client calls ``BenchAgent.forget_inflight()``.
    """

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> int | None:
        """Send a message; return its message id, or None if it was not accepted."""
        ...

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe to a topic filter."""
        ...

    def is_connected(self) -> bool:
        """Whether the broker session is up."""
        ...
