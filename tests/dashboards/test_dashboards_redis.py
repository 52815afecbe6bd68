"""Two processes on one Redis (BENCHFLEET_REDIS): an event published in one reaches the browsers of the other
through the event relay, exactly once, and rooms still decide who gets it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import socketio as sio_client

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.event_bus import EventBus
from fleet.event_relay import RedisEventRelay
from fleet.events import TwinChanged, VoteCounted
from tests.dashboards.dash_support import make_config, start_live
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.served import served
from tests.services import RedisService
from tests.waiting import wait_until
from twins.clock import ManualClock


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisService]:
    server = RedisService(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def _client(base: str, token: str, inbox: list[tuple[str, Any]]) -> sio_client.Client:
    client = sio_client.Client(reconnection=False)
    client.on("twin", lambda data: inbox.append(("twin", data)))
    client.on("vote", lambda data: inbox.append(("vote", data)))
    client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=10)
    return client


class BusFleet(FakeFleet):
    """A fake fleet whose events go through an EventBus, as in a real process."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.bus = EventBus()
        self.listeners.append(self.bus.publish)

    def subscribe(self, listener: Any) -> None:
        self.bus.subscribe(listener)


def test_event_of_one_process_reaches_clients_of_another_once(redis_server: RedisService, tmp_path: Path) -> None:
    store = UserStore.from_url(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    store.add_user("max", "a-long-password-1", "maintenance")
    store.add_user("tre", "a-long-password-2", "municipality", municipality="Trebinje")
    clock = ManualClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    # Both processes configure the Socket.IO queue on the same Redis, as `benchfleet` does: each bridge
    # must still emit to its own clients only, or a browser would get every event once per process.
    config = make_config(socketio_message_queue=redis_server.url)
    ingest, dash = BusFleet(clock), BusFleet(clock)  # the process where the change happens / the browsers' one
    app_ingest, app_dash = create_app(config, ingest, store), create_app(config, dash, store)
    relays = [RedisEventRelay(redis_server.url, f.bus, origin=name) for f, name in ((ingest, "i"), (dash, "d"))]
    lives = [start_live(app_ingest, ingest), start_live(app_dash, dash)]
    maintenance: list[tuple[str, Any]] = []
    trebinje: list[tuple[str, Any]] = []
    try:
        for relay in relays:
            relay.start()
            wait_until(relay.subscribed.is_set, timeout=10, message="relay subscribed")
        with served(app_dash) as base:
            clients = [
                _client(base, store.create_token("max"), maintenance),
                _client(base, store.create_token("tre"), trebinje),
            ]
            mostar = ingest.get_twin("mostar-01")
            assert mostar is not None
            ingest.bus.publish(TwinChanged(mostar, "telemetry"))
            wait_until(lambda: maintenance, timeout=10, message="twin event through Redis")
            marker = VoteCounted("mostar-01", "Mostar", "p", "yes", clock.now())
            ingest.bus.publish(marker)  # after the marker arrived, a second copy of the twin would have too
            wait_until(lambda: any(n == "vote" for n, _ in maintenance), timeout=10, message="marker")
            for c in clients:
                c.disconnect()
    finally:
        for live in lives:
            live.stop()
        for relay in relays:
            relay.stop()
    twins = [t["bench_id"] for name, batch in maintenance if name == "twin" for t in batch["twins"]]
    assert twins == ["mostar-01"]
    assert trebinje == []  # a Trebinje clerk never sees a Mostar bench, whichever process it came from
