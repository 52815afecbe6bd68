"""One paho client builder: protocol, client id, credentials and session for the fleet, the agent and the simulator."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from firmware_agent.transport.paho import PahoTransport
from fleet.desired_publisher import DesiredPublisher
from fleet.settings import parse_mqtt_url
from mqttlink.client import PROTOCOL, make_client
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url
from twins.clock import SystemClock

URL = "mqtt://mostar-01:s%40cret@broker.example:1884"


def test_the_url_sets_the_credentials_and_the_protocol() -> None:
    client = make_client(parse_broker_url(URL), "bench-mostar-01", persistent=True, max_inflight=7)
    assert (client.username, client.password, client.protocol) == ("mostar-01", "s@cret", PROTOCOL)
    assert client.max_inflight_messages == 7


def test_fleet_and_agent_clients_are_built_alike() -> None:
    agent = PahoTransport("mostar-01", parse_broker_url(URL), SystemClock(), sink=lambda _event: None).client
    fleet = DesiredPublisher(parse_mqtt_url(URL), "fleet-desired")._client
    assert (agent.username, agent.password, agent.protocol) == (fleet.username, fleet.password, fleet.protocol)


def test_a_persistent_client_finds_its_session_again(mosquitto: MosquittoService) -> None:
    url = parse_broker_url(mosquitto.url)
    sessions: list[bool] = []
    connected = threading.Event()

    def on_connect(_c: mqtt.Client, _u: Any, flags: mqtt.ConnectFlags, _reason: Any, _props: Any) -> None:
        sessions.append(bool(flags.session_present))
        connected.set()

    for _ in range(2):
        client = make_client(url, "mqttlink-session-test", persistent=True)
        client.on_connect = on_connect
        connected.clear()
        client.connect(url.host, url.port)
        client.loop_start()
        wait_until(connected.is_set, timeout=10, message="connected")
        client.disconnect()
        client.loop_stop()
    assert sessions[-1] is True


#: Constructing paho's client or our subclass of it (a class statement naming it as base is no construction).
_BUILDS_CLIENT = re.compile(r"(?<!class )\b(?:mqtt\.Client|BufferedClient)\b(?:\(| if )")


def test_no_product_code_builds_its_own_paho_client() -> None:
    root = Path(__file__).resolve().parents[2]
    builders = [
        path.relative_to(root).as_posix()
        for package in ("twins", "mqttlink", "fleet", "firmware_agent", "dashboards", "simulator")
        for path in (root / package).rglob("*.py")
        if _BUILDS_CLIENT.search(path.read_text(encoding="utf-8"))
    ]
    assert builders == ["mqttlink/client.py"]
