"""Building paho-mqtt 2.x clients from a broker URL (the one place paho options are decided)."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.settings import MqttUrl


def make_client(
    url: MqttUrl,
    client_id: str,
    *,
    persistent: bool,
    manual_ack: bool = False,
    max_inflight: int = 1000,
) -> mqtt.Client:
    """A paho client for ``url``: persistent session when asked, TLS for mqtts, backoff on reconnect."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client
