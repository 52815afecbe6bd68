"""Dashboard fixtures: a fake fleet, a user store with one user per role, the app and logged-in clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIO

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.db.engine import make_engine
from fleet.db.metadata import metadata
from fleet.ops.alarm_tables import ALARM_TABLES
from fleet.ops.alarms import AlarmStore
from tests.dashboards.dash_support import PASSWORD, USERS, LoggedIn, make_config, start_live
from tests.dashboards.fake_fleet import FakeFleet
from twins.clock import ManualClock


@pytest.fixture(scope="session")
def user_store(tmp_path_factory: pytest.TempPathFactory) -> UserStore:
    """One user per role (hashing is slow on purpose, so the store is built once)."""
    store = UserStore.from_url(f"sqlite:///{tmp_path_factory.mktemp('users') / 'users.sqlite3'}")
    for name, (role, municipality) in USERS.items():
        store.add_user(name, PASSWORD, role, municipality=municipality, locale="en")
    return store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))


@pytest.fixture
def fleet(clock: ManualClock) -> FakeFleet:
    return FakeFleet(clock)


@pytest.fixture
def dashboard_config() -> DashboardConfig:
    return make_config()


@pytest.fixture
def alarm_store(tmp_path: Path) -> Iterator[AlarmStore]:
    """The alarms of the app: their tables in a fresh SQLite file (tests on PostgreSQL build their own)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'alarms.sqlite3'}")
    metadata.create_all(engine, tables=list(ALARM_TABLES))
    yield AlarmStore(engine)
    engine.dispose()


@pytest.fixture
def app_and_socketio(
    dashboard_config: DashboardConfig, fleet: FakeFleet, user_store: UserStore, alarm_store: AlarmStore
) -> Iterator[tuple[Flask, SocketIO]]:
    app = create_app(dashboard_config, fleet, user_store, alarm_store)
    live = start_live(app, fleet)
    yield app, live.socketio
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


@pytest.fixture
def app(app_and_socketio: tuple[Flask, SocketIO]) -> Flask:
    return app_and_socketio[0]


@pytest.fixture
def socketio(app_and_socketio: tuple[Flask, SocketIO]) -> SocketIO:
    return app_and_socketio[1]


@pytest.fixture
def login(app: Flask):  # type: ignore[no-untyped-def]
    """login("mo") → a LoggedIn client of that user."""

    def _login(name: str) -> LoggedIn:
        return LoggedIn(app.test_client(), name)

    return _login


@pytest.fixture
def artifacts() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
