"""Issue 13, part 4: a closed poll's results reach the public (page, API, embed, open data) only once published."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.db.engine import make_engine
from fleet.db.metadata import metadata
from fleet.ops.audit import AuditLog, AuditQuery, audit_log
from fleet.reports.publication import Publications
from fleet.reports.tables import published_polls
from tests.dashboards.dash_support import POLL, LoggedIn, make_config
from tests.dashboards.fake_fleet import FakeFleet
from twins.clock import ManualClock

Login = Callable[[str], LoggedIn]

#: Closed before the test clock's now (2026-11-26).
CLOSED = {
    **POLL,
    "id": "treb-bridge",
    "question": {"bs": "Novi most?", "hr": "Novi most?", "sr": "Novi most?", "en": "A new bridge?"},
    "opens": "2026-11-01T00:00:00Z",
    "closes": "2026-11-20T00:00:00Z",
}
OPEN = {**POLL, "id": "treb-open"}


@pytest.fixture
def publications(tmp_path: Path, clock: ManualClock) -> Iterator[Publications]:
    engine = make_engine(f"sqlite:///{tmp_path / 'publish.sqlite3'}")
    metadata.create_all(engine, tables=[published_polls, audit_log])
    yield Publications(engine, clock, AuditLog(engine, clock))
    engine.dispose()


@pytest.fixture
def public_app(fleet: FakeFleet, user_store: UserStore, publications: Publications) -> Flask:
    fleet.patch_desired("trebinje-01", {"polls": [CLOSED, OPEN]}, None, "test")
    fleet.vote("trebinje-01", "treb-bridge", "yes")
    fleet.vote("trebinje-01", "treb-bridge", "yes")
    fleet.vote("trebinje-01", "treb-bridge", "no")
    return create_app(make_config(public_results=True), fleet, user_store, None, publications)


@pytest.fixture
def as_user(public_app: Flask) -> Login:
    return lambda name: LoggedIn(public_app.test_client(), name)


def _public_views(client: FlaskClient) -> dict[str, Any]:
    """What a citizen can see of the closed poll on every public surface."""
    listed = [p["id"] for p in client.get("/public/api/polls").get_json()["polls"]]
    page = client.get("/public/participation").get_data(as_text=True)
    export = client.get("/public/open-data/polls.json").get_json()
    return {
        "api_list": "treb-bridge" in listed,
        "api_results": client.get("/public/api/polls/treb-bridge/results").status_code,
        "data": client.get("/public/participation/treb-bridge/data.json").status_code,
        "page": 'data-poll="treb-bridge"' in page,
        "embed": client.get("/embed/polls/treb-bridge").status_code,
        "snippet": client.get("/embed/polls/treb-bridge.js").status_code,
        "export": [p["id"] for p in export["polls"]],
        "open_listed": "treb-open" in listed,
    }


def test_a_closed_poll_is_public_only_once_published(public_app: Flask, as_user: Login) -> None:
    anon = public_app.test_client()
    assert _public_views(anon) == {
        "api_list": False, "api_results": 404, "data": 404, "page": False,
        "embed": 404, "snippet": 404, "export": [], "open_listed": True,
    }  # fmt: skip
    tre = as_user("tre")
    published = tre.post("/participation/treb-bridge/publish")
    assert published.status_code == 200, published.get_data(as_text=True)
    assert _public_views(anon) == {
        "api_list": True, "api_results": 200, "data": 200, "page": True,
        "embed": 200, "snippet": 200, "export": ["treb-bridge"], "open_listed": True,
    }  # fmt: skip
    results = anon.get("/public/api/polls/treb-bridge/results").get_json()
    assert results["total"] == {"yes": 2, "no": 1}
    assert tre.post("/participation/treb-bridge/unpublish").status_code == 200
    assert _public_views(anon)["embed"] == 404
    assert _public_views(anon)["api_list"] is False


def test_publishing_is_audit_logged_once(as_user: Login, publications: Publications, clock: ManualClock) -> None:
    tre = as_user("tre")
    assert tre.post("/participation/treb-bridge/publish").get_json()["changed"] is True
    assert tre.post("/participation/treb-bridge/publish").get_json()["changed"] is False
    assert tre.post("/participation/treb-bridge/unpublish").get_json()["changed"] is True
    entries = AuditLog(publications.engine, clock).entries(AuditQuery(), None)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("tre", "poll.unpublish", "treb-bridge"),
        ("tre", "poll.publish", "treb-bridge"),
    ]


def test_an_open_poll_cannot_be_published(as_user: Login) -> None:
    response = as_user("tre").post("/participation/treb-open/publish")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "poll_open"


def test_another_town_cannot_publish(public_app: Flask, as_user: Login, fleet: FakeFleet) -> None:
    # Mostar cannot see Trebinje's poll at all: the same 404 as an unknown id.
    assert as_user("mo").post("/participation/treb-bridge/publish").status_code == 404
    assert as_user("max").post("/participation/treb-bridge/publish").status_code == 403  # maintenance: no edit_polls
    assert public_app.test_client().get("/embed/polls/treb-bridge").status_code == 404
    # A poll that also runs in Mostar is not Trebinje's alone: only an admin publishes it.
    shared = {**CLOSED, "id": "shared-closed"}
    for bench in ("trebinje-01", "mostar-01"):
        twin = fleet.get_twin(bench)
        assert twin is not None
        polls = [p.model_dump(mode="json") for p in twin.desired.polls]
        fleet.patch_desired(bench, {"polls": [*polls, shared]}, None, "test")
    assert as_user("tre").post("/participation/shared-closed/publish").status_code == 403
    assert as_user("ada").post("/participation/shared-closed/publish").status_code == 200


def test_open_data_states_the_licence_and_counts_per_bench(public_app: Flask, as_user: Login) -> None:
    as_user("ada").post("/participation/treb-bridge/publish")
    anon = public_app.test_client()
    doc = anon.get("/public/open-data/polls.json").get_json()
    assert doc["licence"]["name"] == "CC BY 4.0"
    (poll,) = doc["polls"]
    assert poll["by_municipality"] == {"Trebinje": {"yes": 2, "no": 1}}
    assert poll["by_bench"] == [{"bench_id": "trebinje-01", "municipality": "Trebinje", "votes": {"yes": 2, "no": 1}}]
    rows = list(csv.DictReader(io.StringIO(anon.get("/public/open-data/polls.csv").get_data(as_text=True))))
    assert {r["licence"] for r in rows} == {"CC BY 4.0"}
    bench_rows = {(r["bench_id"], r["option"]): int(r["votes"]) for r in rows if r["level"] == "bench"}
    assert bench_rows == {("trebinje-01", "yes"): 2, ("trebinje-01", "no"): 1}
    page = anon.get("/public/participation").get_data(as_text=True)
    assert "CC BY 4.0" in page
    assert "/public/open-data/polls.csv" in page


def test_only_the_widget_may_be_framed(public_app: Flask, as_user: Login) -> None:
    as_user("tre").post("/participation/treb-bridge/publish")
    anon = public_app.test_client()
    widget = anon.get("/embed/polls/treb-bridge")
    assert "X-Frame-Options" not in widget.headers
    assert "frame-ancestors *" in widget.headers["Content-Security-Policy"]
    assert anon.get("/public/participation").headers["X-Frame-Options"] == "DENY"
    assert anon.get("/login").headers["X-Frame-Options"] == "DENY"


def test_the_widget_speaks_the_chosen_language(public_app: Flask, as_user: Login) -> None:
    as_user("tre").post("/participation/treb-bridge/publish")
    anon = public_app.test_client()
    assert "A new bridge?" in anon.get("/embed/polls/treb-bridge?lang=en").get_data(as_text=True)
    assert "Нови мост?" in anon.get("/embed/polls/treb-bridge?lang=sr_Cyrl").get_data(as_text=True)
    bad = anon.get("/embed/polls/treb-bridge?lang=xx", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert "lang='xx'" in bad.get_json()["error"]["message"]
    page = anon.get("/embed/polls/treb-bridge?lang=xx")  # a browser gets a page that says what is wrong
    assert page.status_code == 400
    assert "xx" in page.get_data(as_text=True)
    snippet = anon.get("/embed/polls/treb-bridge.js?lang=en").get_data(as_text=True)
    assert "/embed/polls/treb-bridge?lang=en" in snippet
