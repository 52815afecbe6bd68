"""Issue 8, item 5: 401 before CSRF, /healthz oracle, token expiry and revocation (HTTP and CLI)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from fleet.auth.store import UserStore
from fleet.cli import main
from tests.dashboards.dash_support import POLL, LoggedIn
from twins.clock import ManualClock

Login = Callable[[str], LoggedIn]

WRITES = [
    ("patch", "/api/benches/mostar-01/desired", {"wifi": {"enabled": False}}),
    ("post", "/participation/polls", {"municipality": "Mostar", "poll": POLL}),
    ("post", "/api/benches/mostar-01/desired", {}),
    ("post", "/logout", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("auth", [None, "Bearer not-a-token"])
def test_anonymous_write_gets_401_before_csrf(
    app: Flask, method: str, path: str, body: object, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    response = getattr(app.test_client(), method)(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_bearer_write_needs_no_csrf(app: Flask, user_store: UserStore) -> None:
    token = user_store.create_token("max")
    response = app.test_client().patch(
        "/api/benches/mostar-01/desired",
        json={"wifi": {"max_clients": 20}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_session_write_still_needs_csrf(login: Login) -> None:
    session = login("max")
    response = session.client.patch("/api/benches/mostar-01/desired", json={"wifi": {"max_clients": 20}})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize(("user", "detailed"), [(None, False), ("mo", False), ("max", True), ("ada", True)])
def test_healthz_details_only_for_operators(app: Flask, login: Login, user: str | None, detailed: bool) -> None:
    client = login(user).client if user else app.test_client()
    doc = client.get("/healthz").get_json()
    if detailed:
        assert {"broker", "tsdb", "database"} <= set(doc)
        assert doc["status"] == "ok"
    else:
        assert doc == {"status": "up"}


def test_expired_token_is_refused(app: Flask, user_store: UserStore) -> None:
    past = UserStore(user_store.engine, clock=ManualClock(datetime(2020, 1, 1, tzinfo=UTC)))
    expired = past.create_token("ada", "old script", days=30)
    fresh = user_store.create_token("ada", "new script", days=30)
    client = app.test_client()
    assert client.get("/api/benches", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert client.get("/api/benches", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_revoked_token_is_refused_at_once(app: Flask, user_store: UserStore) -> None:
    token = user_store.create_token("tre", "to revoke")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/benches", headers=auth).status_code == 200
    (info,) = [t for t in user_store.list_tokens("tre") if t.label == "to revoke"]
    assert user_store.revoke_token(info.id) is True
    assert client.get("/api/benches", headers=auth).status_code == 401
    assert user_store.revoke_token(info.id) is False


def test_token_and_user_commands(tmp_path: Path) -> None:
    env = {"BENCHFLEET_DB": f"sqlite:///{tmp_path / 'fleet.db'}"}
    run = CliRunner().invoke
    assert run(main, ["user", "add", "ops", "--role", "admin"], input="first password\n", env=env).exit_code == 0
    created = run(main, ["token", "create", "ops", "--label", "backup", "--days", "7"], env=env)
    assert created.exit_code == 0
    token = created.output.strip()
    store = UserStore.from_url(env["BENCHFLEET_DB"])
    assert store.user_for_token(token) is not None
    listed = run(main, ["token", "list"], env=env)
    assert listed.exit_code == 0
    (line,) = listed.output.splitlines()
    token_id, user, label, _created, expires, state = line.split("\t")
    assert (user, label, state) == ("ops", "backup", "active")
    assert token not in listed.output  # only ids are listed, never the secret
    assert expires != "never"
    assert run(main, ["token", "revoke", token_id], env=env).exit_code == 0
    assert store.user_for_token(token) is None
    missing = run(main, ["token", "revoke", token_id], env=env)
    assert missing.exit_code == 1
    assert "no token with id" in missing.output
    # user passwd: the new password works, the old one does not, and old sessions end.
    before = store.session_id("ops")
    assert run(main, ["user", "passwd", "ops"], input="second password\n", env=env).exit_code == 0
    assert store.verify_password("ops", "second password") is not None
    assert store.verify_password("ops", "first password") is None
    assert store.session_id("ops") != before
    assert run(main, ["user", "logout", "ops"], env=env).exit_code == 0
    assert run(main, ["user", "passwd", "nobody"], input="whatever pw\n", env=env).exit_code == 1
