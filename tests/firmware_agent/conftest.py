"""Fixtures for the bench agent: scripted physics, an agent wired to a real broker, and a broker observer."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware_agent.agent import AgentSettings, BenchAgent
from firmware_agent.config_store import FileConfigStore
from firmware_agent.hardware.simulated import Faults, LoadState, PhysicsSample, SimulatedHardware
from firmware_agent.host import AgentHost
from firmware_agent.ota.releases import ReleaseStore
from firmware_agent.ota.updater import OtaUpdater
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.transport.backoff import Backoff
from firmware_agent.transport.base import TransportEvent
from firmware_agent.transport.paho import PahoTransport
from firmware_agent.votes import VoteBox
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url
from twins.clock import ManualClock
from twins.config import DEFAULT_CONFIG_DOC
from twins.messages import BatteryReading, SolarReading

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class ScriptedPhysics:
    """A test's world: the battery charge is whatever the test sets; users draw fixed power."""

    soc_pct: float = 80.0
    demand_w: dict[str, float] = field(default_factory=lambda: {"usb-1": 7.5, "scooter-1": 60.0})
    clients: int = 5
    calls: int = 0

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """Battery at the scripted charge, a bit of sun, constant demand."""
        self.calls += 1
        return PhysicsSample(
            battery=BatteryReading(soc_pct=self.soc_pct, voltage_v=12.0 + self.soc_pct / 60, current_a=-1.0, temp_c=15),
            solar=SolarReading(power_w=50.0, energy_today_wh=120.0),
            port_demand_w=dict(self.demand_w),
            wifi_clients_wanted=self.clients,
        )


def config_doc(**changes: Any) -> dict[str, Any]:
    """The default config document with top-level keys replaced."""
    doc = json.loads(json.dumps(DEFAULT_CONFIG_DOC))
    doc.update(changes)
    return doc


def poll_doc(poll_id: str = "park-2026", opens: datetime | None = None, days: int = 30) -> dict[str, Any]:
    """A poll open from ``opens`` for ``days``."""
    opens = opens or START - timedelta(days=1)
    labels = {"bs": "Da", "hr": "Da", "sr": "Да", "en": "Yes"}
    return {
        "id": poll_id,
        "question": {"bs": "Novi park?", "hr": "Novi park?", "sr": "Нови парк?", "en": "A new park?"},
        "options": [
            {"id": "yes", "labels": labels},
            {"id": "no", "labels": {"bs": "Ne", "hr": "Ne", "sr": "Не", "en": "No"}},
        ],
        "opens": opens.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "closes": (opens + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def desired_payload(bench_id: str, version: int, config: dict[str, Any], ts: datetime = START) -> bytes:
    """A ``desired`` document as the fleet publishes it."""
    return json.dumps(
        {"v": 1, "bench_id": bench_id, "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "version": version, "config": config}
    ).encode()


class Observer:
    """A fleet-side MQTT client: records everything a bench publishes and can publish desired/cmd."""

    def __init__(self, url: str, bench_id: str, persistent: bool = False) -> None:
        self.bench_id = bench_id
        self.messages: list[tuple[str, dict[str, Any], bool]] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        broker = parse_broker_url(url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"observer-{bench_id}-{uuid.uuid4().hex[:6]}",
            clean_session=not persistent,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.connect_async(broker.host, broker.port)
        self.client.loop_start()
        wait_until(self.connected.is_set, timeout=10, message="observer connected")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(f"benches/{self.bench_id}/#", qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            return  # garbage a test sent on purpose
        with self._lock:
            self.messages.append((msg.topic.rsplit("/", 1)[1], doc, bool(msg.retain)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Payloads received on one topic kind, in arrival order."""
        with self._lock:
            return [doc for k, doc, _ in self.messages if k == kind]

    def events(self, type_: str) -> list[dict[str, Any]]:
        """Events of one type."""
        return [e for e in self.of("events") if e.get("type") == type_]

    def seqs(self) -> set[int]:
        """Telemetry sequence numbers received."""
        return {int(doc["seq"]) for doc in self.of("telemetry")}

    def config_reports(self) -> list[dict[str, Any]]:
        """``reported.config`` values in arrival order (None skipped)."""
        return [doc["config"] for doc in self.of("reported") if doc.get("config")]

    def publish(self, kind: str, payload: bytes, retain: bool = False) -> None:
        """Publish to this bench's topic and wait for the broker's acknowledgement."""
        self.client.publish(f"benches/{self.bench_id}/{kind}", payload, qos=1, retain=retain).wait_for_publish(5)

    def send_desired(self, version: int, config: dict[str, Any]) -> None:
        """Publish a retained desired document."""
        self.publish("desired", desired_payload(self.bench_id, version, config), retain=True)

    def send_command(self, name: str, args: dict[str, Any] | None = None) -> str:
        """Publish a command; returns its id."""
        command_id = str(uuid.uuid4())
        doc = {"v": 1, "bench_id": self.bench_id, "ts": "2026-11-26T10:00:00Z", "id": command_id, "name": name}
        self.publish("cmd", json.dumps({**doc, "args": args or {}}).encode())
        return command_id

    def result(self, command_id: str) -> dict[str, Any] | None:
        """The cmd_result event answering ``command_id``, if received."""
        return next((e for e in self.events("cmd_result") if e["id"] == command_id), None)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


class Harness:
    """One agent on simulated hardware with a real paho transport, pumped by the test thread."""

    def __init__(
        self,
        url: str,
        bench_id: str,
        data_dir: Path,
        clock: ManualClock,
        physics: ScriptedPhysics | None = None,
        settings: AgentSettings | None = None,
        firmware_version: str = "1.0.0",
        updater_key: Any = None,
        faults: Faults | None = None,
    ) -> None:
        self.clock = clock
        self.bench_id = bench_id
        self.data_dir = data_dir
        self.physics = physics or ScriptedPhysics()
        self.events: queue.Queue[TransportEvent] = queue.Queue()
        self.transport = PahoTransport(
            bench_id, parse_broker_url(url), clock, sink=self.events.put, backoff=Backoff(0.05, 0.3)
        )
        self.hardware = SimulatedHardware(self.physics, clock, faults=faults)
        self.db = AgentDatabase(data_dir / "outbox.sqlite3")
        self.outbox = SqliteOutbox(self.db, bench_id)
        self.releases = ReleaseStore(data_dir)
        self.agent = BenchAgent(
            bench_id,
            self.hardware.bench(),
            self.outbox,
            self.transport,
            FileConfigStore(data_dir / "config.json"),
            firmware_version=firmware_version,
            settings=settings,
            releases=self.releases,
            updater=OtaUpdater(self.releases, updater_key),
        )
        self.host = AgentHost(self.agent, self.transport, self.events, clock)
        self.votes = VoteBox(bench_id, clock, self.outbox, lambda: self.agent.config)

    def start(self, wait_connected: bool = True) -> Harness:
        """Start the agent and (optionally) wait for its broker connection."""
        self.host.start()
        if wait_connected:
            self.pump_until(self.transport.is_connected, message="agent connected")
        return self

    def pump_until(
        self, predicate: Callable[[], Any], timeout: float = 15.0, advance: timedelta | None = None, message: str = ""
    ) -> Any:
        """Pump (optionally advancing the clock each round) until ``predicate`` holds."""

        def step() -> Any:
            if advance:
                self.clock.advance(advance)
            self.host.pump(timeout_s=0.02)
            return predicate()

        return wait_until(step, timeout=timeout, interval=0.0, message=message or "agent condition")

    def close(self) -> None:
        """Disconnect and close the database."""
        with contextlib.suppress(Exception):
            self.transport.client.disconnect()
        self.transport.client.loop_stop()
        with contextlib.suppress(Exception):
            self.db.close()


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at a fixed morning."""
    return ManualClock(START)


@pytest.fixture
def bench_id() -> str:
    """A bench id unique to the test (the session broker is shared)."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def observers() -> Iterator[Callable[..., Observer]]:
    """Make observers; all closed at the end."""
    made: list[Observer] = []

    def make(url: str, bench_id: str, persistent: bool = False) -> Observer:
        obs = Observer(url, bench_id, persistent)
        made.append(obs)
        return obs

    yield make
    for obs in made:
        obs.close()


@pytest.fixture
def harnesses() -> Iterator[Callable[..., Harness]]:
    """Make harnesses; all closed at the end."""
    made: list[Harness] = []

    def make(*args: Any, **kwargs: Any) -> Harness:
        h = Harness(*args, **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()
