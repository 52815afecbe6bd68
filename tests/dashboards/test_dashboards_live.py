"""Socket.IO: authenticated connects, rooms per municipality, coalescing, and no event to the wrong client."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIO, SocketIOTestClient

from dashboards.live import LiveBridge
from fleet.auth.store import UserStore
from fleet.events import TwinChanged
from tests.dashboards.dash_support import POLL, LoggedIn, start_live
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.waiting import wait_until

Login = Callable[[str], LoggedIn]


class Inbox:
    """Everything one Socket.IO test client received so far."""

    def __init__(self, client: SocketIOTestClient) -> None:
        self.client = client
        self.events: list[tuple[str, Any]] = []

    def poll(self) -> list[tuple[str, Any]]:
        for message in self.client.get_received():
            self.events.append((message["name"], message["args"][0] if message["args"] else None))
        return self.events

    def named(self, name: str) -> list[Any]:
        return [data for n, data in self.poll() if n == name]

    def twin_ids(self) -> list[str]:
        return [t["bench_id"] for batch in self.named("twin") for t in batch["twins"]]


def connect(socketio: SocketIO, app: Flask, session: LoggedIn | None = None, auth: Any = None) -> Inbox:
    client = socketio.test_client(app, flask_test_client=session.client if session else None, auth=auth)
    return Inbox(client)


def bridge(app: Flask) -> LiveBridge:
    found: LiveBridge = app.extensions["benchfleet"].live
    return found


def test_unauthenticated_socket_is_refused(app: Flask, socketio: SocketIO) -> None:
    inbox = connect(socketio, app)
    assert not inbox.client.is_connected()
    token_inbox = connect(socketio, app, auth={"token": "not-a-token"})
    assert not token_inbox.client.is_connected()


def test_each_user_gets_only_their_benches(app: Flask, socketio: SocketIO, login: Login, fleet: FakeFleet) -> None:
    ada, mo, tre = (connect(socketio, app, login(n)) for n in ("ada", "mo", "tre"))
    assert mo.client.is_connected()
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=42.0))
    wait_until(lambda: "mostar-01" in mo.twin_ids(), timeout=2, message="mo gets the Mostar twin")
    wait_until(lambda: "mostar-01" in ada.twin_ids(), timeout=2, message="admin gets the Mostar twin")
    latest = mo.named("twin")[-1]["twins"][-1]
    assert latest["battery.soc_pct"] == 42.0
    # The flush that reached mo and ada is over; tre's room received nothing.
    assert bridge(app).flushes >= 1
    assert tre.twin_ids() == []
    assert tre.named("health") == []


def test_config_status_and_votes_stay_in_their_municipality(
    app: Flask, socketio: SocketIO, login: Login, fleet: FakeFleet
) -> None:
    fleet.patch_desired("mostar-01", {"polls": [POLL]}, None, "test")
    mo, tre, maintenance = (connect(socketio, app, login(n)) for n in ("mo", "tre", "max"))
    fleet.report_config("mostar-01", 1, "applied")
    fleet.vote("mostar-01", "park-2026", "yes")
    wait_until(lambda: mo.named("vote"), timeout=2, message="mo gets the vote")
    wait_until(lambda: maintenance.named("config_status"), timeout=2, message="maintenance gets config status")
    states = [e["state"] for e in mo.named("config_status")]
    assert states == ["applied"]
    assert mo.named("vote")[0]["option"] == "yes"
    assert tre.poll() == []


def test_token_authenticated_socket(app: Flask, socketio: SocketIO, user_store: UserStore, fleet: FakeFleet) -> None:
    token = user_store.create_token("tre")
    inbox = connect(socketio, app, auth={"token": token})
    assert inbox.client.is_connected()
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1))
    fleet.ingest_telemetry(telemetry("trebinje-01", fleet.now(), 1))
    wait_until(lambda: "trebinje-01" in inbox.twin_ids(), timeout=2, message="tre gets Trebinje")
    assert "mostar-01" not in inbox.twin_ids()


def test_updates_of_one_bench_coalesce_to_its_latest_state(app: Flask, fleet: FakeFleet) -> None:
    live = bridge(app)
    sent: list[tuple[str, Any, str]] = []
    live.stop()  # drive flushes by hand
    live.emit = lambda name, data, room: sent.append((name, data, room))
    for seq in range(10):
        fleet.clock.advance(timedelta(seconds=1))
        fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), seq, soc=40.0 + seq))
    live.flush_once()
    twins = [(room, t) for name, data, room in sent if name == "twin" for t in data["twins"]]
    assert [(room, t["bench_id"], t["battery.soc_pct"]) for room, t in twins] == [
        ("all", "mostar-01", 49.0),
        ("m:Mostar", "mostar-01", 49.0),
    ]
    alerts = [(room, data["bench_id"]) for name, data, room in sent if name == "health"]
    assert alerts == [("m:Mostar", "mostar-01"), ("all", "mostar-01")]  # never_seen cleared: health changed
    sent.clear()
    assert live.flush_once() == 0
    assert sent == []


def test_flushes_are_at_least_the_window_apart(app: Flask, fleet: FakeFleet) -> None:
    live = bridge(app)
    stamps: list[float] = []
    live.emit = lambda name, data, room: stamps.append(time.monotonic()) if room == "all" and name == "twin" else None
    deadline = time.monotonic() + 1.6
    seq = 0
    while time.monotonic() < deadline:  # hammer one bench for 1.6 s
        seq += 1
        fleet.ingest_telemetry(telemetry("mostar-01", fleet.now() + timedelta(milliseconds=seq), seq))
        wait_until(lambda: True, timeout=0.01)
    wait_until(lambda: len(stamps) >= 2, timeout=2, message="at least two flushes")
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(g >= live.interval_s * 0.95 for g in gaps), gaps
    assert len(stamps) <= 1.6 / live.interval_s + 2  # ≤ 2 per second per bench, plus the edges


@pytest.mark.parametrize("public", [False, True])
def test_public_socket_only_when_switched_on(public: bool, fleet: FakeFleet, user_store: UserStore) -> None:
    from dashboards.app import create_app
    from tests.dashboards.dash_support import make_config

    app = create_app(make_config(public_results=public), fleet, user_store)
    socketio = start_live(app, fleet).socketio
    try:
        fleet.patch_desired("mostar-01", {"polls": [POLL]}, None, "test")
        inbox = connect(socketio, app, auth={"public": True})
        assert inbox.client.is_connected() is public
        if public:
            fleet.vote("mostar-01", "park-2026", "no")
            wait_until(lambda: inbox.named("vote"), timeout=2, message="public vote")
            assert inbox.named("vote") == [{"poll_id": "park-2026", "option": "no", "municipality": "Mostar"}]
            assert inbox.named("twin") == []
    finally:
        app.extensions["benchfleet"].live.stop()


def test_a_quiet_bench_goes_out_without_waiting_for_the_window(app: Flask, fleet: FakeFleet) -> None:
    live = bridge(app)
    sent: dict[str, float] = {}

    def record(name: str, data: Any, room: str) -> None:
        if name == "twin" and room == "all":
            for t in data["twins"]:
                sent.setdefault(t["bench_id"], time.monotonic())

    live.emit = record
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1))
    wait_until(lambda: "mostar-01" in sent, timeout=2, message="first bench out")
    published = time.monotonic()
    fleet.ingest_telemetry(telemetry("trebinje-01", fleet.now(), 1))  # right after a flush: the old window
    wait_until(lambda: "trebinje-01" in sent, timeout=2, message="second bench out")
    # Held back only by the 20 ms flush gap, not by mostar-01's 500 ms window (generous bound: shared machine).
    assert sent["trebinje-01"] - published < live.interval_s * 0.6


def test_an_older_twin_arriving_late_never_replaces_the_newer(app: Flask, fleet: FakeFleet) -> None:
    live = bridge(app)
    live.stop()  # drive flushes by hand
    sent: list[tuple[str, Any, str]] = []
    live.emit = lambda name, data, room: sent.append((name, data, room))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=41.0))
    older = fleet.get_twin("mostar-01")
    fleet.clock.advance(timedelta(seconds=1))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 2, soc=42.0))
    assert older is not None
    live.on_event(TwinChanged(older, "telemetry"))  # another process's event, overtaken on the way
    live.flush_once()
    twins = [t for name, data, room in sent if name == "twin" and room == "all" for t in data["twins"]]
    socs = [t["battery.soc_pct"] for t in twins]
    assert socs == [42.0]
