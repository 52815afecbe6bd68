"""Issue 8, item 3 (dashboard side): suspect votes are listed and reviewed by admins and their municipality."""

from __future__ import annotations

from collections.abc import Callable

from tests.dashboards.dash_support import LoggedIn
from tests.dashboards.fake_fleet import FakeFleet

Login = Callable[[str], LoggedIn]


def _hold(fleet: FakeFleet) -> None:
    fleet.suspect[("mostar-01", "park-2026")] = ["yes", "yes", "no"]
    fleet.suspect[("trebinje-01", "treb-2026")] = ["no"]


def test_each_user_sees_the_held_votes_of_their_benches(login: Login, fleet: FakeFleet) -> None:
    _hold(fleet)
    mine = login("mo").get("/api/votes/suspect").get_json()["suspect"]
    assert [(g["bench_id"], g["poll_id"], g["votes"]) for g in mine] == [("mostar-01", "park-2026", 3)]
    everything = login("ada").get("/api/votes/suspect").get_json()["suspect"]
    assert {g["bench_id"] for g in everything} == {"mostar-01", "trebinje-01"}
    assert login("max").get("/api/votes/suspect").status_code == 403  # maintenance does not run polls


def test_a_review_counts_the_votes_once_and_names_the_reviewer(login: Login, fleet: FakeFleet) -> None:
    _hold(fleet)
    mo = login("mo")
    body = {"bench_id": "mostar-01", "poll_id": "park-2026", "decision": "accept"}
    first = mo.post("/api/votes/suspect/review", json=body)
    assert first.status_code == 200
    assert first.get_json()["votes"] == 3
    assert mo.post("/api/votes/suspect/review", json=body).get_json()["votes"] == 0
    assert fleet.get_twin("mostar-01").counted_votes["park-2026"] == {"yes": 2, "no": 1}  # type: ignore[union-attr]
    assert fleet.reviews == [
        ("mostar-01", "park-2026", "accept", "mo", 3),
        ("mostar-01", "park-2026", "accept", "mo", 0),
    ]


def test_another_towns_votes_and_bad_decisions_are_refused(login: Login, fleet: FakeFleet) -> None:
    _hold(fleet)
    mo = login("mo")
    other = mo.post(
        "/api/votes/suspect/review", json={"bench_id": "trebinje-01", "poll_id": "treb-2026", "decision": "accept"}
    )
    assert other.status_code == 404
    bad = mo.post("/api/votes/suspect/review", json={"bench_id": "mostar-01", "poll_id": "park-2026", "decision": "ok"})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == ["decision"]
    assert fleet.reviews == []
