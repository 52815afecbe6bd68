"""Two dashboard processes on one Redis message queue: an event raised in one reaches the other's clients,
and rooms still decide who gets it (BENCHFLEET_SOCKETIO_QUEUE)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import socketio as sio_client

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.events import TwinChanged
from tests.dashboards.dash_support import make_config
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
    client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=10)
    return client


def test_event_from_one_process_reaches_clients_of_another(redis_server: RedisService, tmp_path: Path) -> None:
    store = UserStore.from_url(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    store.add_user("max", "a-long-password-1", "maintenance")
    store.add_user("tre", "a-long-password-2", "municipality", municipality="Trebinje")
    clock = ManualClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    config = make_config(socketio_message_queue=redis_server.url)
    fleet_a, fleet_b = FakeFleet(clock), FakeFleet(clock)
    app_a, _ = create_app(config, fleet_a, store)  # the process where the fleet event happens
    app_b, _ = create_app(config, fleet_b, store)  # the process the browsers are connected to
    maintenance: list[tuple[str, Any]] = []
    trebinje: list[tuple[str, Any]] = []
    try:
        with served(app_b) as base:
            clients = [
                _client(base, store.create_token("max"), maintenance),
                _client(base, store.create_token("tre"), trebinje),
            ]
            mostar = fleet_a.get_twin("mostar-01")
            assert mostar is not None
            fleet_a.listeners[0](TwinChanged(mostar, "telemetry"))
            wait_until(lambda: maintenance, timeout=10, message="twin event through Redis")
            for c in clients:
                c.disconnect()
    finally:
        for app in (app_a, app_b):
            app.extensions["benchfleet"].live.stop()
    assert [t["bench_id"] for _, batch in maintenance for t in batch["twins"]] == ["mostar-01"]
    assert trebinje == []  # a Trebinje clerk never sees a Mostar bench, whichever process emitted it
