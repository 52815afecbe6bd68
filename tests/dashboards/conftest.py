"""Dashboard fixtures: a fake fleet, a user store with one user per role, the app and logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from tests.dashboards.fake_fleet import FakeFleet
from twins.clock import ManualClock

PASSWORD = "correct horse battery"
#: name → (role, municipality)
USERS: dict[str, tuple[str, str | None]] = {
    "ada": ("admin", None),
    "max": ("maintenance", None),
    "mo": ("municipality", "Mostar"),
    "tre": ("municipality", "Trebinje"),
}
_CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


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


def make_config(**overrides: object) -> DashboardConfig:
    """Test settings: plain-HTTP cookies (the test client speaks http), fast live flushes."""
    base: dict[str, object] = {"secret_key": "test-secret-key-0123456789", "secure_cookies": False, "testing": True}
    base.update(overrides)
    return DashboardConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
def dashboard_config() -> DashboardConfig:
    return make_config()


@pytest.fixture
def app_and_socketio(
    dashboard_config: DashboardConfig, fleet: FakeFleet, user_store: UserStore
) -> Iterator[tuple[Flask, SocketIO]]:
    app, socketio = create_app(dashboard_config, fleet, user_store)
    yield app, socketio
    app.extensions["benchfleet"].live.stop()


@pytest.fixture
def app(app_and_socketio: tuple[Flask, SocketIO]) -> Flask:
    return app_and_socketio[0]


@pytest.fixture
def socketio(app_and_socketio: tuple[Flask, SocketIO]) -> SocketIO:
    return app_and_socketio[1]


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's meta tag."""
    match = _CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf meta on {path}"
    return match.group(1)


class LoggedIn:
    """A test client logged in as one user, sending its CSRF token on writes."""

    def __init__(self, client: FlaskClient, name: str) -> None:
        self.client = client
        self.name = name
        token = csrf_of(client)
        response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.csrf = csrf_of(client, "/fleet")

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        headers = {"X-CSRFToken": self.csrf, **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.post(path, headers=headers, **kw)

    def patch(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        headers = {"X-CSRFToken": self.csrf, **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.patch(path, headers=headers, **kw)


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
