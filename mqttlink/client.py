"""Building paho-mqtt 2.x clients from a broker URL: the one place protocol, client id, credentials and TLS are set.

The fleet (ingestion, desired publisher), the bench agent and the simulator's benches all build their
clients here, so a broker that needs TLS or another protocol version is configured once.
"""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from mqttlink.buffered import BufferedClient
from twins.broker_url import BrokerUrl

#: The contract allows MQTT 3.1.1 or 5; every client speaks 3.1.1 (persistent sessions, QoS 1, retained).
PROTOCOL = mqtt.MQTTv311


def make_client(
    url: BrokerUrl,
    client_id: str,
    *,
    persistent: bool,
    manual_ack: bool = False,
    max_inflight: int = 1000,
    ca_certs: str | None = None,
    buffered: bool = False,
) -> mqtt.Client:
    """A paho client for ``url``: persistent session when asked, credentials, TLS for mqtts (``ca_certs``: private CA).

    ``buffered``: a BufferedClient (large reads, gathered writes, ``ack_many``), for a client that drains
    many messages and runs paho's own loop. The caller sets its callbacks, last will and reconnect policy,
    and connects.
    """
    client = (BufferedClient if buffered else mqtt.Client)(  # the one construction of a paho client
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=PROTOCOL,
        manual_ack=manual_ack,
    )
    if url.username is not None:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(ca_certs=ca_certs, cert_reqs=ssl.CERT_REQUIRED)
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client
