"""The shared service fixtures really start working services (and restart them on the same port)."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

import paho.mqtt.client as mqtt
import pytest
import requests
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import AmqttService, InfluxService, MosquittoService, free_port, port_open
from tests.waiting import WaitTimeoutError, wait_until

Received: TypeAlias = "queue.Queue[tuple[str, bytes]]"


@contextmanager
def mqtt_client(
    host: str, port: int, *, client_id: str = "", clean: bool = True
) -> Iterator[tuple[mqtt.Client, Received]]:
    """A connected paho 2.x client whose received messages land in a queue."""
    received: Received = queue.Queue()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{uuid.uuid4().hex[:8]}", clean_session=clean
    )
    client.on_message = lambda _c, _u, msg: received.put((msg.topic, bytes(msg.payload)))
    client.connect(host, port)
    client.loop_start()
    try:
        wait_until(client.is_connected, timeout=10, message="mqtt connected")
        yield client, received
    finally:
        client.disconnect()
        client.loop_stop()


def publish_until_received(publisher: mqtt.Client, received: Received, topic: str, payload: bytes) -> None:
    """Publish at QoS 1 until the subscriber got it (covers the window before the SUBACK is processed)."""

    def arrived() -> bool:
        publisher.publish(topic, payload, qos=1)
        try:
            return received.get(timeout=0.2) == (topic, payload)
        except queue.Empty:
            return False

    wait_until(arrived, timeout=10, message=f"round trip on {topic}")


def round_trip(host: str, port: int) -> None:
    """Subscribe, publish at QoS 1 and check the same message comes back."""
    topic = f"benches/test-{uuid.uuid4().hex[:8]}/telemetry"
    with mqtt_client(host, port) as (client, received):
        result, _mid = client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS
        publish_until_received(client, received, topic, b'{"v":1}')


def test_mosquitto_round_trip(mosquitto: MosquittoService) -> None:
    """A QoS 1 message published to our own Mosquitto comes back to a subscriber."""
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    assert mosquitto.port != 1883
    round_trip(mosquitto.host, mosquitto.port)


def test_mosquitto_keeps_queued_messages_across_restart(fresh_mosquitto: MosquittoService) -> None:
    """A persistent session's queued QoS 1 messages survive a broker restart on the same port."""
    broker = fresh_mosquitto
    topic = f"benches/restart-{uuid.uuid4().hex[:6]}/telemetry"
    client_id = f"ingest-{uuid.uuid4().hex[:6]}"
    with mqtt_client(broker.host, broker.port, client_id=client_id, clean=False) as (client, received):
        client.subscribe(topic, qos=1)
        # A round trip proves the subscription is registered before the subscriber goes offline.
        publish_until_received(client, received, topic, b"first")
    with mqtt_client(broker.host, broker.port) as (pub, _):
        infos = [pub.publish(topic, f"m{i}".encode(), qos=1) for i in range(1500)]
        for info in infos:
            info.wait_for_publish(10)
    port = broker.port
    broker.restart()
    assert broker.port == port
    with mqtt_client(broker.host, broker.port, client_id=client_id, clean=False) as (_client, received):
        got: list[bytes] = []

        def all_in() -> bool:
            while not received.empty():
                got.append(received.get_nowait()[1])
            return sum(1 for p in got if p.startswith(b"m")) >= 1500

        wait_until(all_in, timeout=20, message="queued messages after restart")
    # More than Mosquitto's default limit of 1000 queued messages: none dropped.
    assert {p for p in got if p.startswith(b"m")} == {f"m{i}".encode() for i in range(1500)}


def test_amqtt_round_trip(amqtt_broker: AmqttService) -> None:
    """The embedded amqtt broker relays a QoS 1 message between two paho clients."""
    assert amqtt_broker.running
    round_trip(amqtt_broker.host, amqtt_broker.port)


def test_amqtt_stops_cleanly() -> None:
    """Stopping the embedded broker closes its port."""
    broker = AmqttService(port=free_port())
    broker.start()
    assert port_open(broker.host, broker.port)
    broker.stop()
    assert not broker.running
    assert not port_open(broker.host, broker.port)


def test_influx_write_query(influxdb: InfluxService) -> None:
    """A line written to /write is read back from /query."""
    bench = f"svc-{uuid.uuid4().hex[:8]}"
    resp = requests.post(
        f"{influxdb.http_url}/write",
        params={"db": influxdb.database, "precision": "s"},
        data=f"telemetry,bench_id={bench} battery_soc_pct=81.5 1764151200",
        timeout=10,
    )
    assert resp.status_code == 204, resp.text
    body = influxdb.query(f"SELECT battery_soc_pct FROM telemetry WHERE bench_id='{bench}'", db=influxdb.database)
    assert body["results"][0]["series"][0]["values"] == [["2025-11-26T10:00:00Z", 81.5]]


def test_influx_restart_keeps_data_and_port(fresh_influxdb: InfluxService) -> None:
    """Stopping influxd refuses connections; starting it again serves the same data on the same port."""
    server = fresh_influxdb
    resp = requests.post(
        f"{server.http_url}/write", params={"db": server.database}, data="m v=1 1000000000", timeout=10
    )
    assert resp.status_code == 204
    port = server.port
    server.stop()
    assert not port_open(server.host, port)
    server.start()
    assert server.port == port
    assert server.count("m", "v") == 1


def test_wait_until_times_out() -> None:
    """wait_until raises (with the message) when a condition never holds."""
    with pytest.raises(WaitTimeoutError, match="never"):
        wait_until(lambda: False, timeout=0.2, interval=0.05, message="never")


def test_pg_select_one(pg_url: str) -> None:
    """The session database answers SELECT 1 and is the one named in the URL."""
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
            name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert pg_url.endswith("/" + name)
    assert name.startswith("benchfleet_test_")
