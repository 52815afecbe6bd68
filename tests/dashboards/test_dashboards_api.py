"""The JSON API of contract section 4 with the Flask test client: every route, every role, every refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from tests.dashboards.dash_support import PASSWORD, POLL, LoggedIn, csrf_of, make_config, with_poll
from tests.dashboards.fake_fleet import FakeFleet, telemetry

Login = Callable[[str], LoggedIn]
PROTECTED_API = [
    "/api/benches",
    "/api/benches/mostar-01",
    "/api/benches/mostar-01/series?field=battery.soc_pct",
    "/api/polls",
    "/api/polls/park-2026/results",
    "/api/alerts",
]


@pytest.mark.parametrize("path", PROTECTED_API)
def test_api_needs_login_and_answers_json_401(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("path", ["/fleet", "/benches/mostar-01", "/participation", "/config", "/participation/editor"])
def test_pages_redirect_to_login(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_open_routes(app: Flask) -> None:
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "up"}  # anonymous: up or down only (issue 8)
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.mimetype == "text/plain"
    assert "benchfleet_messages_in_total" in metrics.get_data(as_text=True)
    assert client.get("/api/openapi.json").get_json()["openapi"].startswith("3.")


@pytest.mark.parametrize(("user", "count"), [("ada", 12), ("max", 12), ("mo", 1), ("tre", 1)])
def test_bench_list_is_scoped_by_role(login: Login, user: str, count: int) -> None:
    benches = login(user).get("/api/benches").get_json()["benches"]
    assert len(benches) == count
    if count == 1:
        assert {b["municipality"] for b in benches} == {"Mostar" if user == "mo" else "Trebinje"}


def test_whole_twin(login: Login, fleet: FakeFleet) -> None:
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=55.0))
    response = login("mo").get("/api/benches/mostar-01")
    assert response.status_code == 200
    doc = response.get_json()
    assert set(doc) >= {"attributes", "reported", "desired", "delta", "connectivity", "health", "versions"}
    assert doc["telemetry"]["battery"]["soc_pct"] == 55.0
    assert doc["connectivity"]["last_seen"] is not None
    assert response.headers["ETag"] == '"0"'


@pytest.mark.parametrize(
    "path",
    [
        "/api/benches/trebinje-01",
        "/api/benches/trebinje-01/series?field=battery.soc_pct",
        "/benches/trebinje-01",
        "/benches/trebinje-01/charts.json",
        "/benches/trebinje-01/twin.json",
    ],
)
def test_other_municipality_looks_missing(login: Login, path: str) -> None:
    """No 403/404 oracle: another town's bench answers exactly like a bench that does not exist."""
    mo = login("mo")
    other = mo.get(path)
    missing = mo.get(path.replace("trebinje-01", "nowhere-01"))
    assert other.status_code == missing.status_code == 404
    if not other.is_json:  # a page (the browser's error page): the same page for both
        assert other.get_data() == missing.get_data().replace(b"nowhere-01", b"trebinje-01")
        return
    assert other.get_json() == {
        k: {**v, "message": v["message"].replace("nowhere-01", "trebinje-01")} for k, v in missing.get_json().items()
    }


def test_unknown_bench_is_404(login: Login) -> None:
    response = login("ada").get("/api/benches/nowhere-01")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_bench"


def test_patch_desired_with_if_match(login: Login, fleet: FakeFleet) -> None:
    ada = login("max")
    ok = ada.patch("/api/benches/mostar-01/desired", json={"wifi": {"max_clients": 30}}, headers={"If-Match": '"0"'})
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"1"'
    assert ok.get_json()["desired"]["config"]["wifi"]["max_clients"] == 30
    assert fleet.patches[-1] == ("mostar-01", {"wifi": {"max_clients": 30}}, "max")
    stale = ada.patch("/api/benches/mostar-01/desired", json={"wifi": {"max_clients": 31}}, headers={"If-Match": "0"})
    assert stale.status_code == 412
    assert stale.get_json()["error"]["current_version"] == 1
    bad = ada.patch("/api/benches/mostar-01/desired", json={"wifi": {"max_clients": 999}, "telemetry_interval_s": 1})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert set(fields) == {"wifi.max_clients", "telemetry_interval_s"}
    assert fleet.get_twin("mostar-01").desired.wifi.max_clients == 30  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"If-Match": "v1"}, {"wifi": {"enabled": False}}, "bad_if_match"),
        ({}, None, "bad_json"),
    ],
)
def test_patch_desired_bad_requests(login: Login, headers: dict[str, str], body: Any, code: str) -> None:
    kw: dict[str, Any] = {"headers": headers}
    if body is None:
        kw["data"] = "not json"
    else:
        kw["json"] = body
    response = login("ada").patch("/api/benches/mostar-01/desired", **kw)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_role_rights_on_desired(login: Login, fleet: FakeFleet) -> None:
    mo = login("mo")
    assert mo.patch("/api/benches/mostar-01/desired", json={"wifi": {"enabled": False}}).status_code == 403
    assert mo.patch("/api/benches/mostar-01/desired", json={"polls": [POLL]}).status_code == 200
    assert mo.patch("/api/benches/trebinje-01/desired", json={"polls": [POLL]}).status_code == 404
    maintenance = login("max")
    assert maintenance.patch("/api/benches/mostar-01/desired", json={"polls": []}).status_code == 403
    assert maintenance.patch("/api/benches/mostar-01/desired", json={"wifi": {"enabled": False}}).status_code == 200
    assert fleet.get_twin("mostar-01").desired.wifi.enabled is False  # type: ignore[union-attr]


def test_state_changes_need_csrf_unless_bearer_token(app: Flask, login: Login, user_store: UserStore) -> None:
    session = login("ada")
    no_token = session.client.patch("/api/benches/mostar-01/desired", json={"wifi": {"enabled": False}})
    assert no_token.status_code == 400
    assert no_token.get_json()["error"]["code"] == "csrf_failed"
    token = user_store.create_token("ada", label="test")
    scripted = app.test_client().patch(
        "/api/benches/mostar-01/desired",
        json={"wifi": {"enabled": False}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert scripted.status_code == 200
    wrong = app.test_client().get("/api/benches", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_token_user_is_scoped(app: Flask, user_store: UserStore) -> None:
    token = user_store.create_token("tre")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert [b["bench_id"] for b in client.get("/api/benches", headers=auth).get_json()["benches"]] == ["trebinje-01"]
    assert client.get("/api/benches/mostar-01", headers=auth).status_code == 404


def test_series(login: Login, fleet: FakeFleet) -> None:
    start = fleet.now()
    for i in range(6):
        fleet.clock.advance(timedelta(minutes=1))
        fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), i, soc=50.0 + i))
    session = login("mo")
    response = session.get("/api/benches/mostar-01/series?field=battery.soc_pct&start=-10m&every=5m")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["every_s"] == 300
    values = [p["value"] for p in doc["points"]]
    assert values == [None, 52.0]  # minute 0-5 of the window is empty; samples at start+1..+4 are in bucket 2
    assert start < fleet.now()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("field=battery.volts", "unknown_field"),
        ("field=battery.soc_pct&every=5x", "bad_time"),
        ("field=battery.soc_pct&start=-30d&every=1s", "bad_time"),
        ("field=battery.soc_pct&start=yesterday", "bad_time"),
    ],
)
def test_series_bad_parameters(login: Login, query: str, code: str) -> None:
    response = login("ada").get(f"/api/benches/mostar-01/series?{query}")
    assert response.status_code == 400
    body = response.get_json()["error"]
    assert body["code"] == code
    assert body["message"]


def test_polls_and_results_are_scoped(login: Login, fleet: FakeFleet) -> None:
    with_poll(fleet, "mostar-01", "trebinje-01")
    fleet.vote("mostar-01", "park-2026", "yes")
    fleet.vote("trebinje-01", "park-2026", "no")
    fleet.vote("trebinje-01", "park-2026", "no")
    ada = login("ada").get("/api/polls/park-2026/results").get_json()
    assert ada["total"] == {"yes": 1, "no": 2}
    assert set(ada["by_municipality"]) == {"Mostar", "Trebinje"}
    mo = login("mo")
    polls = mo.get("/api/polls").get_json()["polls"]
    assert [p["id"] for p in polls] == ["park-2026"]
    assert polls[0]["bench_ids"] == ["mostar-01"]
    mine = mo.get("/api/polls/park-2026/results").get_json()
    assert mine["total"] == {"yes": 1}
    assert list(mine["by_bench"]) == ["mostar-01"]


def test_poll_of_another_municipality_is_not_found(login: Login, fleet: FakeFleet) -> None:
    with_poll(fleet, "trebinje-01")
    response = login("mo").get("/api/polls/park-2026/results")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_poll"


def test_errors_are_json_without_stack_traces(login: Login, fleet: FakeFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(scope: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fleet, "list_twins", boom)
    response = login("ada").get("/api/benches")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in body
    assert "Traceback" not in body
    missing = login("ada").get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_openapi_describes_exactly_the_api_routes(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}")
        if not (path.startswith(("/api/", "/public/api/")) or path in {"/healthz", "/metrics"}):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            served.add((path, method.lower()))
    assert documented == served
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op["summary"], path
            assert {"200", "202"} & set(op["responses"]), path  # 202: commands are answered later


def test_login_is_rate_limited(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client)
    codes = [
        client.post("/login", data={"name": "ada", "password": "wrong", "csrf_token": token}).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429


def test_login_needs_csrf_and_right_password(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/login", data={"name": "ada", "password": PASSWORD}).status_code == 400
    token = csrf_of(client)
    wrong = client.post("/login", data={"name": "ada", "password": "not it", "csrf_token": token})
    assert wrong.status_code == 401
    assert "Pogrešno korisničko ime ili lozinka" in wrong.get_data(as_text=True)  # default locale: Bosnian


def test_logout_ends_the_session(login: Login) -> None:
    session = login("ada")
    assert session.post("/logout").status_code == 302
    assert session.get("/api/benches").status_code == 401


def test_secure_session_cookie(fleet: FakeFleet, user_store: UserStore) -> None:
    app = create_app(make_config(secure_cookies=True), fleet, user_store)
    try:
        client = app.test_client()
        token = csrf_of(client)
        response = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    finally:
        app.extensions["benchfleet"].live.stop()


def test_open_redirect_after_login_is_refused(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client)
    response = client.post(
        "/login?next=//evil.example/", data={"name": "ada", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/fleet"
