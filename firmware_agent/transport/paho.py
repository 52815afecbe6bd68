"""paho-mqtt 2.x transport: persistent session, retained last will, jittered reconnect, TLS, credentials.

Callbacks only translate paho's arguments into ``TransportEvent`` values and hand them to ``sink``.
In the single-bench process the sink is a queue drained by the agent's own loop (paho's network
thread never touches agent state); a host running many benches on one selector loop passes a sink
that calls ``BenchAgent.handle`` directly and drives the client itself (see ``docs/agent.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqttlink.client import make_client
from twins.broker_url import BrokerUrl
from twins.clock import Clock
from twins.topics import QOS

from ..wire import status_payload, status_topic
from .backoff import Backoff
from .base import Connected, Disconnected, Published, Received, TransportEvent

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
# paho keeps unacknowledged QoS 1 messages and resends them after a reconnect; the agent caps its
# own in-flight window below this, so paho never has to queue.
MAX_INFLIGHT = 100


class PahoTransport:
    """One bench's MQTT connection; implements ``transport.base.Transport``."""

    def __init__(
        self,
        bench_id: str,
        broker: BrokerUrl,
        clock: Clock,
        sink: Callable[[TransportEvent], None],
        backoff: Backoff | None = None,
        ca_certs: str | None = None,
        client_id: str | None = None,
        keepalive_s: int = KEEPALIVE_S,
    ) -> None:
        self.bench_id = bench_id
        self.broker = broker
        self._clock = clock
        self._sink = sink
        self.backoff = backoff or Backoff()
        self._keepalive_s = keepalive_s
        self.will_ts: datetime | None = None
        #: Delay chosen at the last disconnect; a selector host waits this long before ``reconnect()``.
        self.reconnect_delay_s = 0.0
        self._threaded = False
        self.client = make_client(
            broker, client_id or f"bench-{bench_id}", persistent=True, max_inflight=MAX_INFLIGHT, ca_certs=ca_certs
        )
        self.client.on_pre_connect = self._on_pre_connect
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self._set_will()

    # -- paho callbacks ---------------------------------------------------------------------------
    def _set_will(self) -> None:
        # A fresh timestamp per connection: the "online" status sent after CONNACK carries the same ts,
        # so the fleet never mistakes this will for an older message than that status.
        self.will_ts = self._clock.now()
        self.client.will_set(
            status_topic(self.bench_id),
            status_payload(self.bench_id, False, self.will_ts, "connection lost"),
            qos=QOS,
            retain=True,
        )

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        self._set_will()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, reason: ReasonCode, props: Properties | None
    ) -> None:
        if reason.is_failure:
            log.warning("%s: broker %s refused the connection: %s", self.bench_id, self.broker.redacted(), reason)
            self._schedule_reconnect()
            return
        self.backoff.reset()
        self._sink(Connected(session_present=bool(flags.session_present), will_ts=self.will_ts))

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        self._schedule_reconnect()
        self._sink(Disconnected(reason=str(reason)))

    def _schedule_reconnect(self) -> None:
        # paho waits min_delay before its next attempt; setting min = max = our jittered delay makes
        # paho's own reconnect loop follow our backoff.
        delay = self.next_reconnect_delay()
        self.reconnect_delay_s = delay
        self.client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._sink(Received(topic=message.topic, payload=bytes(message.payload)))

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._sink(Published(mid=mid))

    # -- Transport --------------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> int | None:
        """Hand a message to paho; None if paho refused it (e.g. payload too large)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.warning("%s: publish to %s refused: %s", self.bench_id, topic, mqtt.error_string(info.rc))
            return None
        return int(info.mid)

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe (called by the agent on every connect; the session keeps it too)."""
        self.client.subscribe(topic, qos=qos)

    def is_connected(self) -> bool:
        """Whether the broker session is up."""
        return bool(self.client.is_connected())

    # -- lifecycle --------------------------------------------------------------------------------
    def next_reconnect_delay(self) -> float:
        """The jittered delay before the next connection attempt (hosts without paho's thread use it)."""
        return self.backoff.next_delay()

    def start(self) -> None:
        """Connect in paho's network thread, which reconnects by itself with our backoff."""
        self._threaded = True
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive_s)
        self.client.loop_start()

    def connect_nonthreaded(self) -> None:
        """For selector hosts: open the socket now (raises OSError if the broker is unreachable)."""
        self.client.connect(self.broker.host, self.broker.port, keepalive=self._keepalive_s)

    def stop(self, reason: str = "shutdown") -> None:
        """Say offline (a clean disconnect does not fire the will), disconnect and stop the thread."""
        if self.is_connected():
            info = self.client.publish(
                status_topic(self.bench_id),
                status_payload(self.bench_id, False, self._clock.now(), reason),
                qos=QOS,
                retain=True,
            )
            if self._threaded:
                try:
                    info.wait_for_publish(timeout=2.0)
                except (RuntimeError, ValueError):
                    log.info("%s: offline status not confirmed before shutdown", self.bench_id)
            else:
                # No network thread: push the status out now rather than wait for a select loop.
                self.client.loop_write()
        self.client.disconnect()
        if self._threaded:
            self.client.loop_stop()
        else:
            self.client.loop_write()
