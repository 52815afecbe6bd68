"""The paho side of ingestion: a persistent session whose callbacks only enqueue; acks come later."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from fleet.ingest.pipeline import RawMessage
from fleet.settings import MqttUrl
from mqttlink.buffered import BufferedClient
from mqttlink.client import make_client
from twins.topics import QOS, inbound_filters

log = logging.getLogger(__name__)


class MqttSource:
    """Subscribes to every inbound bench topic with a persistent session and manual acks.

    A message is acknowledged (PUBACK) only after the pipeline made it durable, so a crash or
    restart of the ingester makes the broker redeliver it: nothing accepted by the broker is lost.
    """

    def __init__(self, url: MqttUrl, client_id: str, share_group: str = "", max_inflight: int = 1000) -> None:
        self.queue: queue.SimpleQueue[RawMessage] = queue.SimpleQueue()  # C: a put is a fraction of Queue.put
        self.connected = threading.Event()
        self._filters = inbound_filters(share_group or None)
        client = make_client(url, client_id, persistent=True, manual_ack=True, max_inflight=max_inflight, buffered=True)
        assert isinstance(client, BufferedClient)
        self._client = client
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message  # QoS 2 or MQTT 5 only: the rest comes raw
        self._client.on_publish_raw = self._on_publish_raw
        self._url = url

    def start(self) -> None:
        """Connect in the background; paho reconnects with backoff by itself."""
        self._client.connect_async(self._url.host, self._url.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly (the persistent session keeps queuing at the broker)."""
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, messages: list[RawMessage]) -> None:
        """Acknowledge processed messages, in the order they arrived."""
        # One wake-up of the network thread for the whole batch, whose PUBACKs then leave in one send.
        self._client.ack_many((m.mid, m.qos) for m in messages if m.qos > 0)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        # Subscribe on every connect: cheap, and re-sends retained status/reported after an outage.
        client.subscribe([(f, QOS) for f in self._filters])
        log.info("connected to %s (session present: %s)", self._url.redacted(), flags.session_present)
        self.connected.set()

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected.clear()
        log.warning("disconnected from %s; reconnecting", self._url.redacted())

    def _on_publish_raw(self, topic: str, payload: bytes, mid: int, qos: int, retain: bool) -> None:
        # Only enqueue: all work happens on the worker thread, off paho's network loop.
        self.queue.put(RawMessage(topic, payload, mid, qos, retain))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._on_publish_raw(msg.topic, bytes(msg.payload), msg.mid, msg.qos, msg.retain)
