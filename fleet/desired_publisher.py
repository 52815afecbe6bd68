"""Publishes desired configurations, retained at QoS 1, so a bench gets the latest one whenever it connects."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from fleet.settings import MqttUrl
from mqttlink.client import make_client
from twins.codec import encode
from twins.messages import Command, Desired
from twins.topics import QOS, TopicKind, topic_for
from twins.twin import Twin

log = logging.getLogger(__name__)


def desired_message(twin: Twin, at: datetime) -> Desired:
    """The desired document of a twin."""
    return Desired(v=1, bench_id=twin.bench_id, ts=at, version=twin.desired_version, config=twin.desired)


class DesiredPublisher:
    """One paho client that publishes ``desired`` (retained) and ``cmd`` messages."""

    def __init__(self, url: MqttUrl, client_id: str) -> None:
        self._client = make_client(url, client_id, persistent=False)
        self._client.on_connect = self._on_connect
        self._url = url
        self.connected = threading.Event()

    def start(self) -> None:
        """Connect in the background (paho queues publishes made while offline)."""
        self._client.connect_async(self._url.host, self._url.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.connected.set()

    def publish_desired(self, twin: Twin, at: datetime, timeout_s: float = 5.0) -> bool:
        """Publish a twin's desired config (retained) and wait up to ``timeout_s`` for the PUBACK;
        False if it did not come (offline: paho still sends the message when it reconnects)."""
        payload = encode(desired_message(twin, at))
        info = self._client.publish(topic_for(twin.bench_id, TopicKind.DESIRED), payload, qos=QOS, retain=True)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):  # not connected, or paho's queue is full
            return False
        return info.is_published()

    def publish_command(self, command: Command) -> mqtt.MQTTMessageInfo:
        """Publish a one-off command (not retained: a command is for now, not for whenever)."""
        return self._client.publish(topic_for(command.bench_id, TopicKind.CMD), encode(command), qos=QOS)
