"""Helpers for the runner tests: a subscriber that records what benches publish, and stepped driving."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulator.clock import StepClock
from simulator.runner import FleetRunner
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url
from twins.codec import Rejected, decode_payload
from twins.topics import TopicKind


@dataclass
class Message:
    """One message as the fleet would receive it, with the simulated time it arrived."""

    topic: str
    payload: bytes
    retain: bool
    received_s: float

    @property
    def bench_id(self) -> str:
        """The bench id in the topic."""
        return self.topic.split("/")[1]

    @property
    def kind(self) -> str:
        """The last topic level: telemetry, events, status, reported."""
        return self.topic.split("/")[2]

    def doc(self) -> dict[str, Any]:
        """The payload as JSON (raises for garbage)."""
        value = json.loads(self.payload)
        if not isinstance(value, dict):
            raise ValueError(f"{self.topic}: payload is not a JSON object")
        return value


@dataclass
class Recorder:
    """A paho client subscribed to ``benches/#`` (QoS 1), recording every message."""

    url: str
    clock: Any = None
    client_id: str = ""
    """With an id the session is persistent: the broker keeps the recorder's messages across its restarts."""
    messages: list[Message] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        broker = parse_broker_url(self.url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=not self.client_id
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("benches/#", qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        wait_until(self.client.is_connected, timeout=10, message="recorder connected")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = self.clock.now_s() if self.clock is not None else 0.0
        with self._lock:
            self.messages.append(Message(msg.topic, bytes(msg.payload), bool(msg.retain), now))

    def of(self, bench_id: str | None = None, kind: str | None = None) -> list[Message]:
        """Messages of one bench and/or kind, in arrival order."""
        with self._lock:
            return [
                m
                for m in self.messages
                if (bench_id is None or m.bench_id == bench_id) and (kind is None or m.kind == kind)
            ]

    def telemetry(self, bench_id: str) -> list[dict[str, Any]]:
        """A bench's well-formed telemetry samples, ordered by seq."""
        docs = []
        for m in self.of(bench_id, "telemetry"):
            try:
                decode_payload(TopicKind.TELEMETRY, m.payload)
            except Rejected:
                continue  # garbage (the malformed fault): the fleet rejects it too
            docs.append(m.doc())
        return sorted(docs, key=lambda d: d["seq"])

    def seen_benches(self, kind: str) -> set[str]:
        """Bench ids with at least one message of ``kind``."""
        with self._lock:
            return {m.bench_id for m in self.messages if m.kind == kind}

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def connect_all(runner: FleetRunner, timeout: float = 30.0) -> None:
    """Serve the loop until every bench is connected."""

    def all_up() -> bool:
        runner.run_once(0.01)
        return runner.stats().connected == len(runner.benches)

    wait_until(all_up, timeout=timeout, interval=0.0, message="every bench connected")


def advance(
    runner: FleetRunner,
    clock: StepClock,
    span: timedelta,
    recorder: Recorder | None = None,
    step: timedelta = timedelta(seconds=60),
) -> None:
    """Move simulated time forward in lockstep: after each step, wait until the broker acknowledged what the
    benches sent and (with a ``recorder``) the recorder received it, before time moves on.

    So a message reaches the subscriber at the simulated instant it was sent, as in a real-time run
    (a backlog after an outage still drains at the agent's own pace: 20 messages per tick).
    """

    def behind() -> bool:
        if any(b.agent.inflight > 0 and b.transport.is_connected() for b in runner.benches):
            return True
        return recorder is not None and len(recorder.messages) < runner.counters.acked

    for _ in range(int(span / step)):
        clock.advance(step)
        runner.run_once(0.0)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and behind():
            runner.run_once(0.001)


def settle(runner: FleetRunner, clock: StepClock, recorder: Recorder, timeout: float = 20.0) -> None:
    """Keep stepping until the connected benches' outboxes are empty (benches drain only when they tick)."""

    def published() -> bool:
        clock.advance(timedelta(seconds=60))
        runner.run_once(0.01)
        return all(b.agent.outbox.count() <= b.agent.inflight for b in runner.benches if b.transport.is_connected())

    def acknowledged() -> bool:
        runner.run_once(0.01)
        return all(b.agent.outbox.count() == 0 for b in runner.benches if b.transport.is_connected())

    wait_until(published, timeout=timeout, interval=0.0, message="outbox backlogs published")
    wait_until(acknowledged, timeout=timeout, interval=0.0, message="outboxes acknowledged")
    # The recorder is a separate client: give it the messages the broker already acknowledged.
    count = -1

    def quiet() -> bool:
        nonlocal count
        runner.run_once(0.05)
        now = len(recorder.messages)
        done = now == count
        count = now
        return done

    wait_until(quiet, timeout=timeout, interval=0.0, message="recorder quiet")
