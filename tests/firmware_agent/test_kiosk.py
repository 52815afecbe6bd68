"""The kiosk page and vote API (Flask test client; votes land in a real SQLite outbox)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from firmware_agent.kiosk.app import STATIC, KioskServer, create_kiosk_app
from firmware_agent.outbox.base import Category
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.votes import VoteBox
from tests.firmware_agent.conftest import START, config_doc, poll_doc
from twins.twin import validate_config


@pytest.fixture
def kiosk(tmp_path: Path, clock):
    """A kiosk app for a bench with one open and one closed poll."""
    closed = poll_doc("old-poll", opens=START - timedelta(days=60), days=10)
    config = validate_config(config_doc(polls=[poll_doc(), closed]))
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "kiosk-01")
    app = create_kiosk_app(VoteBox("kiosk-01", clock, outbox, lambda: config), clock, max_votes=3)
    return app, outbox


def test_page_is_self_contained_and_in_four_languages() -> None:
    html = (STATIC / "index.html").read_text()
    script = (STATIC / "kiosk.js").read_text()
    assert "http" not in html.replace('rel="stylesheet"', "")  # no CDN: everything from the bench itself
    assert "https://" not in script
    for lang in ("bs", "hr", "sr", "en"):
        assert f'data-lang="{lang}"' in html
        assert f"{lang}: {{" in script


def test_lists_open_polls_with_all_languages(kiosk) -> None:
    app, _ = kiosk
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/static/kiosk.js").status_code == 200
    doc = client.get("/api/polls").get_json()
    assert [p["id"] for p in doc["polls"]] == ["park-2026"]
    assert set(doc["polls"][0]["question"]) == {"bs", "hr", "sr", "en"}
    assert doc["polls"][0]["question"]["sr"] == "Нови парк?"
    assert doc["voted"] == []


def test_vote_goes_into_the_outbox_with_a_fresh_uuid(kiosk) -> None:
    app, outbox = kiosk
    client = app.test_client()
    resp = client.post("/api/votes", json={"poll_id": "park-2026", "option": "yes"})
    assert resp.status_code == 201
    entry = outbox.pending(0, 10)[0]
    assert entry.category is Category.VOTE
    event = json.loads(entry.payload)
    assert event["type"] == "vote"
    assert event["id"] == resp.get_json()["id"]
    assert event["data"] == {"poll_id": "park-2026", "option": "yes"}
    assert event["ts"] == "2026-11-26T10:00:00.000Z"
    other = app.test_client().post("/api/votes", json={"poll_id": "park-2026", "option": "no"})
    assert other.get_json()["id"] != event["id"]
    assert outbox.vote_counts() == {"park-2026": {"no": 1, "yes": 1}}


def test_one_vote_per_poll_per_session(kiosk) -> None:
    app, outbox = kiosk
    client = app.test_client()
    assert client.post("/api/votes", json={"poll_id": "park-2026", "option": "yes"}).status_code == 201
    again = client.post("/api/votes", json={"poll_id": "park-2026", "option": "no"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_voted"
    assert client.get("/api/polls").get_json()["voted"] == ["park-2026"]
    assert client.post("/api/session/end").status_code == 200  # the next person
    assert client.post("/api/votes", json={"poll_id": "park-2026", "option": "no"}).status_code == 201
    assert outbox.count() == 2


def test_rate_limit_across_sessions(kiosk, clock) -> None:
    app, outbox = kiosk
    codes = [
        app.test_client().post("/api/votes", json={"poll_id": "park-2026", "option": "yes"}).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    clock.advance(timedelta(seconds=61))
    assert app.test_client().post("/api/votes", json={"poll_id": "park-2026", "option": "no"}).status_code == 201
    assert outbox.count() == 4


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"poll_id": "old-poll", "option": "yes"}, 409, "poll_closed"),
        ({"poll_id": "nope", "option": "yes"}, 404, "unknown_poll"),
        ({"poll_id": "park-2026", "option": "maybe"}, 422, "unknown_option"),
        ({"poll_id": 5}, 400, "bad_request"),
    ],
)
def test_refused_votes_are_not_recorded(kiosk, body, status, code) -> None:
    app, outbox = kiosk
    resp = app.test_client().post("/api/votes", json=body)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code
    assert outbox.count() == 0


def test_served_on_localhost_over_real_http(kiosk) -> None:
    app, outbox = kiosk
    server = KioskServer(app, "127.0.0.1", 0)
    server.start()
    try:
        with requests.Session() as citizen:
            assert "kiosk.js" in citizen.get(server.url + "/", timeout=5).text
            assert (
                citizen.post(
                    server.url + "/api/votes", json={"poll_id": "park-2026", "option": "yes"}, timeout=5
                ).status_code
                == 201
            )
            assert (
                citizen.post(
                    server.url + "/api/votes", json={"poll_id": "park-2026", "option": "no"}, timeout=5
                ).status_code
                == 409
            )
    finally:
        server.stop()
    assert outbox.vote_counts() == {"park-2026": {"yes": 1}}


def test_outbox_failure_is_a_clear_503(kiosk) -> None:
    app, outbox = kiosk
    outbox.db.close()
    resp = app.test_client().post("/api/votes", json={"poll_id": "park-2026", "option": "yes"})
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "unavailable"
