"""BufferedClient against a real Mosquitto: large reads, gathered writes and ack_many keep paho's guarantees."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from mqttlink.buffered import READ_CHUNK, BufferedClient, BufferedSocket
from mqttlink.client import make_client
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url


class Inbox:
    """A BufferedClient with a persistent session and manual acks, collecting what arrives."""

    def __init__(
        self,
        broker: MosquittoService,
        client_id: str,
        topic: str,
        raw: list[tuple[str, bytes, int, int, bool]] | None = None,
        qos: int = 1,
    ) -> None:
        client = make_client(
            parse_broker_url(broker.url),
            client_id,
            persistent=True,
            manual_ack=True,
            max_inflight=20_000,
            buffered=True,
        )
        assert isinstance(client, BufferedClient)
        self.client = client
        self.messages: list[mqtt.MQTTMessage] = []
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        client.on_message = self._on_message
        if raw is not None:
            client.on_publish_raw = lambda *publish: raw.append(publish)
        client.on_subscribe = lambda *_a: self.subscribed.set()
        client.on_connect = lambda c, *_a: c.subscribe(topic, qos=qos)
        client.connect("127.0.0.1", broker.port, keepalive=30)
        client.loop_start()
        wait_until(self.subscribed.is_set, timeout=10, message=f"{client_id} subscribed")

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(msg)

    def count(self) -> int:
        """How many messages arrived so far."""
        with self._lock:
            return len(self.messages)

    def settle(self) -> None:
        """Wait until the broker has read everything sent so far: it acknowledges our own QoS 1 publish only
        after the packets before it (closing at once can lose unread PUBACKs at the broker, paho's or ours)."""
        info = self.client.publish(f"buffered/settle/{uuid.uuid4().hex[:8]}", b"", qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def close(self) -> None:
        """Disconnect cleanly (the session stays at the broker)."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def topic() -> str:
    """A topic of this test's own."""
    return f"buffered/{uuid.uuid4().hex[:8]}"


def publish_all(broker: MosquittoService, topic: str, payloads: list[bytes]) -> None:
    """Publish with QoS 1 and wait until the broker acknowledged every message (plain paho client)."""
    pub = make_client(parse_broker_url(broker.url), f"pub-{uuid.uuid4().hex[:8]}", persistent=False)
    pub.max_inflight_messages_set(1000)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        infos = [pub.publish(topic, p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published()
    finally:
        pub.disconnect()
        pub.loop_stop()


@pytest.fixture
def inbox_factory(mosquitto: MosquittoService, topic: str) -> Iterator[Any]:
    """Builds Inboxes on the shared broker and closes them after the test."""
    made: list[Inbox] = []

    def build(client_id: str) -> Inbox:
        inbox = Inbox(mosquitto, client_id, topic)
        made.append(inbox)
        return inbox

    yield build
    for inbox in made:
        inbox.close()


def test_a_backlog_arrives_whole_and_in_order_and_acked_messages_are_not_redelivered(
    mosquitto: MosquittoService, topic: str, inbox_factory: Any
) -> None:
    cid = f"buffered-{uuid.uuid4().hex[:8]}"
    inbox = inbox_factory(cid)
    inbox.close()  # the session keeps queuing: the next connect gets a backlog many reads deep
    payloads = [f'{{"n": {i}, "pad": "{"x" * (i % 300)}"}}'.encode() for i in range(3000)]
    publish_all(mosquitto, topic, payloads)

    inbox = inbox_factory(cid)
    wait_until(lambda: inbox.count() == len(payloads), timeout=30, message="the whole backlog")
    assert [m.payload for m in inbox.messages] == payloads
    inbox.client.ack_many((m.mid, m.qos) for m in inbox.messages)
    # A message published after the acks still arrives: the loop is not stuck on buffered bytes.
    publish_all(mosquitto, topic, [b"after"])
    wait_until(lambda: inbox.count() == len(payloads) + 1, timeout=10, message="the later message")
    inbox.client.ack_many([(inbox.messages[-1].mid, 1)])
    inbox.settle()
    inbox.close()

    again = inbox_factory(cid)  # same session: nothing may come back, every PUBACK reached the broker
    publish_all(mosquitto, topic, [b"marker"])
    wait_until(lambda: again.count() >= 1, timeout=10, message="the marker")
    assert [m.payload for m in again.messages] == [b"marker"]


def test_unacknowledged_messages_are_redelivered(mosquitto: MosquittoService, topic: str, inbox_factory: Any) -> None:
    cid = f"buffered-{uuid.uuid4().hex[:8]}"
    inbox = inbox_factory(cid)
    publish_all(mosquitto, topic, [f"m{i}".encode() for i in range(10)])
    wait_until(lambda: inbox.count() == 10, timeout=10, message="ten messages")
    inbox.client.ack_many((m.mid, m.qos) for m in inbox.messages[:4])
    inbox.settle()
    inbox.close()

    again = inbox_factory(cid)
    wait_until(lambda: again.count() >= 6, timeout=10, message="the six unacknowledged ones")
    assert sorted(m.payload for m in again.messages) == sorted(f"m{i}".encode() for i in range(4, 10))
    assert all(m.dup for m in again.messages)


def test_a_message_larger_than_one_read_arrives_intact(
    topic: str, mosquitto: MosquittoService, inbox_factory: Any
) -> None:
    inbox = inbox_factory(f"buffered-{uuid.uuid4().hex[:8]}")
    big = bytes(range(256)) * (3 * READ_CHUNK // 256 + 7)
    publish_all(mosquitto, topic, [b"small", big, b"tail"])
    wait_until(lambda: inbox.count() == 3, timeout=10, message="three messages")
    assert [m.payload for m in inbox.messages] == [b"small", big, b"tail"]


def test_a_buffered_client_publishes_and_its_writes_leave(
    mosquitto: MosquittoService, topic: str, inbox_factory: Any
) -> None:
    inbox = inbox_factory(f"buffered-{uuid.uuid4().hex[:8]}")
    sender = inbox.client
    infos = [sender.publish(topic, f"p{i}".encode(), qos=1) for i in range(200)]
    for info in infos:
        info.wait_for_publish(timeout=10)
    wait_until(lambda: inbox.count() == 200, timeout=10, message="its own 200 messages back")
    sock = sender.socket()
    assert isinstance(sock, BufferedSocket)
    assert sock.unsent() == 0


def test_raw_publishes_arrive_in_order_with_their_ids_big_ones_included(
    mosquitto: MosquittoService, topic: str, inbox_factory: Any
) -> None:
    cid = f"buffered-raw-{uuid.uuid4().hex[:8]}"
    inbox = inbox_factory(cid)
    inbox.close()
    big = bytes(range(256)) * (2 * READ_CHUNK // 256 + 3)  # never whole in one read: paho's reader takes it
    payloads = [f"m{i}".encode() * (i % 50 + 1) for i in range(2000)]
    payloads[1000] = big
    publish_all(mosquitto, topic, payloads)

    raw: list[tuple[str, bytes, int, int, bool]] = []
    inbox = Inbox(mosquitto, cid, topic, raw=raw)
    try:
        wait_until(lambda: len(raw) == len(payloads), timeout=30, message="the backlog, raw")
        assert [p for _t, p, _m, _q, _r in raw] == payloads
        assert {(t, q, r) for t, _p, _m, q, r in raw} == {(topic, 1, False)}
        assert len({m for _t, _p, m, _q, _r in raw}) == len(payloads)  # every packet id of the window apart
        assert inbox.messages == []  # nothing went the MQTTMessage way
        inbox.client.ack_many((m, q) for _t, _p, m, q, _r in raw)
        inbox.settle()
    finally:
        inbox.close()
    again = inbox_factory(cid)
    publish_all(mosquitto, topic, [b"marker"])
    wait_until(lambda: again.count() >= 1, timeout=10, message="the marker")
    assert [m.payload for m in again.messages] == [b"marker"]


def test_raw_qos0_and_retained_publishes_keep_their_flags(mosquitto: MosquittoService, topic: str) -> None:
    pub = make_client(parse_broker_url(mosquitto.url), f"pub-{uuid.uuid4().hex[:8]}", persistent=False)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    try:
        pub.publish(topic, b"kept", qos=1, retain=True).wait_for_publish(timeout=10)
        raw: list[tuple[str, bytes, int, int, bool]] = []
        inbox = Inbox(mosquitto, f"buffered-raw-{uuid.uuid4().hex[:8]}", topic, raw=raw, qos=0)
        try:
            wait_until(lambda: len(raw) == 1, timeout=10, message="the retained message")
            pub.publish(topic, b"live", qos=0).wait_for_publish(timeout=10)
            wait_until(lambda: len(raw) == 2, timeout=10, message="the live message")
            assert raw == [(topic, b"kept", 0, 0, True), (topic, b"live", 0, 0, False)]
        finally:
            inbox.close()
    finally:
        pub.publish(topic, b"", qos=1, retain=True).wait_for_publish(timeout=10)
        pub.disconnect()
        pub.loop_stop()
