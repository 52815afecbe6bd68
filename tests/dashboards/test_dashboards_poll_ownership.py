"""Issue 8, item 4 (dashboard side): a poll id belongs to the municipalities that use it; nobody else takes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.service_api import EVERYTHING
from tests.dashboards.dash_support import POLL, LoggedIn
from tests.dashboards.fake_fleet import FakeFleet

Login = Callable[[str], LoggedIn]


def _poll(poll_id: str, question: str) -> dict[str, Any]:
    return {**POLL, "id": poll_id, "question": dict.fromkeys(("bs", "hr", "sr", "en"), question)}


def _questions(fleet: FakeFleet) -> dict[str, str]:
    return {p.poll_id: p.question["en"] for p in fleet.polls(EVERYTHING)}


def test_another_town_cannot_take_a_poll_id_by_the_editor(login: Login, fleet: FakeFleet) -> None:
    fleet.patch_desired("trebinje-01", {"polls": [_poll("treb-secret", "Trebinje asks")]}, None, "tre")
    response = login("mo").post(
        "/participation/polls", json={"municipality": "Mostar", "poll": _poll("treb-secret", "hijack")}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "poll_id_taken"
    assert _questions(fleet) == {"treb-secret": "Trebinje asks"}
    assert fleet.get_twin("mostar-01").desired.polls == []  # type: ignore[union-attr]
    # Results are not merged: only Trebinje's bench carries the poll.
    assert [p.municipalities for p in fleet.polls(EVERYTHING)] == [("Trebinje",)]


def test_another_town_cannot_take_a_poll_id_by_patch(login: Login, fleet: FakeFleet) -> None:
    fleet.patch_desired("trebinje-01", {"polls": [_poll("treb-secret", "Trebinje asks")]}, None, "tre")
    response = login("mo").patch("/api/benches/mostar-01/desired", json={"polls": [_poll("treb-secret", "hijack")]})
    assert response.status_code == 409
    assert fleet.get_twin("mostar-01").desired.polls == []  # type: ignore[union-attr]


def test_ids_with_counted_votes_elsewhere_are_taken(login: Login, fleet: FakeFleet) -> None:
    fleet.vote("trebinje-01", "old-2025", "yes")  # a retired Trebinje poll: its votes stay Trebinje's
    response = login("mo").post("/participation/polls", json={"municipality": "Mostar", "poll": _poll("old-2025", "x")})
    assert response.status_code == 409


def test_owners_and_admins_keep_their_rights(login: Login, fleet: FakeFleet) -> None:
    tre = login("tre")
    ok = tre.post("/participation/polls", json={"municipality": "Trebinje", "poll": _poll("treb-2026", "v1")})
    assert ok.status_code == 200
    again = tre.post("/participation/polls", json={"municipality": "Trebinje", "poll": _poll("treb-2026", "v2")})
    assert again.status_code == 200
    assert _questions(fleet)["treb-2026"] == "v2"
    # An admin may put one poll on the whole fleet ...
    assert login("ada").post("/participation/polls", json={"poll": _poll("fleet-2026", "fleet")}).status_code == 200
    # ... which a municipality may neither change nor remove from its benches,
    mo = login("mo")
    current = [p.model_dump(mode="json") for p in fleet.get_twin("mostar-01").desired.polls]  # type: ignore[union-attr]
    assert mo.patch("/api/benches/mostar-01/desired", json={"polls": []}).status_code == 409
    changed = [{**current[0], "question": dict.fromkeys(current[0]["question"], "mine")}]
    assert mo.patch("/api/benches/mostar-01/desired", json={"polls": changed}).status_code == 409
    # ... but it may add its own poll next to it (the fleet poll sent back unchanged).
    both = [*current, _poll("mostar-2026", "Mostar asks")]
    assert mo.patch("/api/benches/mostar-01/desired", json={"polls": both}).status_code == 200
    assert set(_questions(fleet)) == {"treb-2026", "fleet-2026", "mostar-2026"}
