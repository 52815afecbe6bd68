"""The app factory: Flask's pattern (returns the app, starts nothing) and Nagle off on its connections."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from tests.dashboards.dash_support import make_config
from tests.dashboards.fake_fleet import FakeFleet


def test_create_app_returns_the_app_and_starts_no_thread(fleet: FakeFleet, user_store: UserStore) -> None:
    before = set(threading.enumerate())
    app = create_app(make_config(), fleet, user_store)
    assert isinstance(app, Flask)
    started = set(threading.enumerate()) - before
    # Only the login rate limiter's in-memory store (the `limits` library) arms an expiry Timer of its own.
    assert all(isinstance(t, threading.Timer) for t in started), started
    assert not app.extensions["benchfleet"].live.running
    assert fleet.listeners == []  # the composition root subscribes the bridge, not the factory


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    yield server, client
    server.close()
    client.close()


def test_each_connection_has_nagle_switched_off(
    fleet: FakeFleet, user_store: UserStore, tcp_pair: tuple[socket.socket, socket.socket]
) -> None:
    server_side, _client = tcp_pair
    assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    app = create_app(make_config(), fleet, user_store)
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "werkzeug.socket": server_side,
    }
    body = b"".join(app.wsgi_app(environ, lambda status, _headers: statuses.append(status)))  # type: ignore[arg-type]
    assert body
    assert statuses[0].startswith(("200", "503"))
    assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
