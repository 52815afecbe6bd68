"""Helpers of the dashboard tests: test users, settings and a logged-in client with its CSRF token."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from dashboards.config import DashboardConfig
from dashboards.live import LiveBridge
from fleet.service_api import FleetApi
from tests.dashboards.fake_fleet import FakeFleet

PASSWORD = "correct horse battery"
#: name → (role, municipality)
USERS: dict[str, tuple[str, str | None]] = {
    "ada": ("admin", None),
    "max": ("maintenance", None),
    "mo": ("municipality", "Mostar"),
    "tre": ("municipality", "Trebinje"),
}
_CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def make_config(**overrides: object) -> DashboardConfig:
    """Test settings: plain-HTTP cookies (the test client speaks http), fast live flushes."""
    base: dict[str, object] = {"secret_key": "test-secret-key-0123456789", "secure_cookies": False, "testing": True}
    base.update(overrides)
    return DashboardConfig(**base)  # type: ignore[arg-type]


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


#: A valid poll in every kiosk language.
POLL = {
    "id": "park-2026",
    "question": {"bs": "Novi park?", "hr": "Novi park?", "sr": "Novi park?", "en": "A new park?"},
    "options": [
        {"id": "yes", "labels": {"bs": "Da", "hr": "Da", "sr": "Da", "en": "Yes"}},
        {"id": "no", "labels": {"bs": "Ne", "hr": "Ne", "sr": "Ne", "en": "No"}},
    ],
    "opens": "2026-11-20T00:00:00Z",
    "closes": "2026-12-20T00:00:00Z",
}


def with_poll(fleet: FakeFleet, *benches: str) -> None:
    """Put POLL on the given benches."""
    for bench in benches:
        fleet.patch_desired(bench, {"polls": [POLL]}, None, "test")


def start_live(app: Flask, fleet: FleetApi) -> LiveBridge:
    """What the composition root does for a dashboard: subscribe the bridge to the fleet's events, start it."""
    live: LiveBridge = app.extensions["benchfleet"].live
    fleet.subscribe(live.on_event)
    live.start()
    return live
