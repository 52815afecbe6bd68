"""Issue 8, item 1: forged sessions, session versions, live connections of removed users, login throttling."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from flask_socketio import SocketIO

from dashboards.app import create_app
from fleet.auth.store import UserStore
from tests.dashboards.dash_support import PASSWORD, LoggedIn, csrf_of, make_config
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.services import RedisService
from tests.waiting import wait_until

Login = Callable[[str], LoggedIn]


def _forged_client(app: Flask, payload: dict[str, object]) -> FlaskClient:
    """A client carrying a session cookie signed with the app's own key (what a leaked key allows)."""
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps(payload)  # type: ignore[union-attr]
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


@pytest.fixture
def fresh_user(user_store: UserStore) -> str:
    """A throwaway admin (the shared users must survive for other tests)."""
    name = f"tmp-{uuid.uuid4().hex[:8]}"
    user_store.add_user(name, PASSWORD, "admin", locale="en")
    return name


def test_forged_cookie_with_a_user_name_is_refused_and_tells_names_apart_not(app: Flask) -> None:
    existing = _forged_client(app, {"_user_id": "ada", "_fresh": True}).get("/api/benches")
    missing = _forged_client(app, {"_user_id": "nobody-here", "_fresh": True}).get("/api/benches")
    assert existing.status_code == missing.status_code == 401
    assert existing.get_json() == missing.get_json()


def test_forged_cookie_cannot_patch_desired(app: Flask) -> None:
    client = _forged_client(app, {"_user_id": "ada", "_fresh": True})
    response = client.patch(
        "/api/benches/mostar-01/desired", json={"wifi": {"enabled": False}}, headers={"X-CSRFToken": "x"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("ending", ["remove", "passwd", "logout_everywhere_cli"])
def test_ending_sessions_invalidates_every_cookie(
    app: Flask, user_store: UserStore, login: Login, fresh_user: str, ending: str
) -> None:
    phone, laptop = login(fresh_user), login(fresh_user)
    assert phone.get("/api/benches").status_code == 200
    assert laptop.get("/api/benches").status_code == 200
    if ending == "remove":
        user_store.remove_user(fresh_user)
    elif ending == "passwd":
        user_store.set_password(fresh_user, "a brand new password")
    else:
        user_store.end_sessions(fresh_user)
    assert phone.get("/api/benches").status_code == 401
    assert laptop.get("/api/benches").status_code == 401


def test_log_out_everywhere_from_the_dashboard(app: Flask, login: Login, fresh_user: str) -> None:
    phone, laptop = login(fresh_user), login(fresh_user)
    assert phone.post("/logout/everywhere").status_code == 302
    assert laptop.get("/api/benches").status_code == 401
    again = login(fresh_user)  # a new login works with the new session version
    assert again.get("/api/benches").status_code == 200


def test_removed_users_socket_is_dropped_at_once(
    app: Flask, socketio: SocketIO, user_store: UserStore, login: Login, fleet: FakeFleet, fresh_user: str
) -> None:
    session = login(fresh_user)
    client = socketio.test_client(app, flask_test_client=session.client)
    assert client.is_connected()
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=40.0))
    wait_until(lambda: any(m["name"] == "twin" for m in client.get_received()), timeout=3, message="first twin")
    admin = socketio.test_client(app, flask_test_client=login("ada").client)
    user_store.remove_user(fresh_user)
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 2, soc=41.0))
    wait_until(lambda: not client.is_connected(), timeout=3, message="socket of the removed user dropped")
    # The update after the removal still went out (to the admin), but not to the removed user.
    wait_until(lambda: any(m["name"] == "twin" for m in admin.get_received()), timeout=3, message="admin twin")
    assert [m for m in client.queue if m["name"] == "twin"] == []


def test_revoked_tokens_socket_is_dropped(
    app: Flask, socketio: SocketIO, user_store: UserStore, fleet: FakeFleet, fresh_user: str
) -> None:
    token = user_store.create_token(fresh_user)
    client = socketio.test_client(app, auth={"token": token})
    assert client.is_connected()
    (info,) = user_store.list_tokens(fresh_user)
    user_store.revoke_token(info.id)
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 3, soc=42.0))
    wait_until(lambda: not client.is_connected(), timeout=3, message="socket of the revoked token dropped")


def _try(client: FlaskClient, name: str, password: str, **headers: str) -> int:
    token = csrf_of(client)
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}, headers=headers
    ).status_code


@pytest.fixture
def strict_app(fleet: FakeFleet, user_store: UserStore):  # type: ignore[no-untyped-def]
    app = create_app(
        make_config(
            login_rate_limit="3 per minute", login_account_limits="2 per minute", trusted_proxies=("127.0.0.1",)
        ),
        fleet,
        user_store,
    )
    yield app
    app.extensions["benchfleet"].live.stop()


def test_right_password_is_not_refused_for_others_successes(strict_app: Flask) -> None:
    client = strict_app.test_client()
    # Five colleagues behind one proxy logging in successfully: only failures count.
    assert [_try(client, "ada", PASSWORD) for _ in range(5)] == [302] * 5


def test_account_backoff_holds_across_addresses(strict_app: Flask) -> None:
    client = strict_app.test_client()
    codes = [_try(client, "max", "wrong", **{"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(3)]
    assert codes == [401, 401, 429]  # per account, whatever address the guesser comes from
    # Another account from another address is not held up by it.
    assert _try(client, "ada", PASSWORD, **{"X-Forwarded-For": "203.0.113.50"}) == 302


def test_forwarded_for_is_ignored_from_an_untrusted_peer(fleet: FakeFleet, user_store: UserStore) -> None:
    app = create_app(make_config(login_rate_limit="2 per minute"), fleet, user_store)  # no trusted proxy
    try:
        client = app.test_client()
        # A client rotating X-Forwarded-For itself still counts as one address.
        codes = [_try(client, f"ghost{i}", "wrong", **{"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(3)]
        assert codes == [401, 401, 429]
    finally:
        app.extensions["benchfleet"].live.stop()


def test_unknown_and_known_accounts_are_throttled_alike(strict_app: Flask) -> None:
    client = strict_app.test_client()
    known = [_try(client, "tre", "wrong", **{"X-Forwarded-For": "192.0.2.1"}) for _ in range(3)]
    unknown = [_try(client, "nobody", "wrong", **{"X-Forwarded-For": "192.0.2.2"}) for _ in range(3)]
    assert known == unknown == [401, 401, 429]


@pytest.mark.browser
def test_browser_of_a_removed_user_goes_offline_and_out(
    app: Flask, user_store: UserStore, fleet: FakeFleet, fresh_user: str
) -> None:
    """In real Chromium: the live badge of a removed user's open page turns offline, and a reload asks to log in."""
    from tests.dashboards.served import chromium, log_in, served

    with served(app) as base, chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, base, fresh_user, PASSWORD)
        page.wait_for_selector("#live-status[data-state=live]", timeout=10_000)
        user_store.remove_user(fresh_user)
        fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 5, soc=45.0))
        page.wait_for_selector("#live-status[data-state=offline]", timeout=5_000)
        page.goto(f"{base}/fleet")
        assert "/login" in page.url
        context.close()


def test_failed_logins_count_across_dashboards_sharing_redis(
    tmp_path: Path, fleet: FakeFleet, user_store: UserStore
) -> None:
    """Two dashboard processes behind a load balancer: a guesser alternating between them meets one budget."""
    with RedisService(tmp_path / "redis") as redis_server:
        apps = [
            create_app(
                make_config(login_account_limits="3 per minute", login_limit_storage=redis_server.url),
                fleet,
                user_store,
            )[0]
            for _ in range(2)
        ]
        try:
            clients = [a.test_client() for a in apps]
            codes = [_try(clients[i % 2], "ada", "wrong") for i in range(4)]
            assert codes == [401, 401, 401, 429]
        finally:
            for a in apps:
                a.extensions["benchfleet"].live.stop()
