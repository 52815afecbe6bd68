"""Announcements from the dashboard: a municipality publishes to its own benches only, errors name the field."""

from __future__ import annotations

from typing import Any

from tests.dashboards.fake_fleet import FakeFleet

TEXT = {"bs": "Sutra čistimo park", "hr": "Sutra čistimo park", "sr": "Сутра чистимо парк"}
BODY: dict[str, Any] = {"text": TEXT, "starts": "2026-11-20T00:00:00Z", "ends": "2026-12-20T00:00:00Z"}


def _carrying(fleet: FakeFleet, announcement_id: str) -> set[str]:
    return {b for b, t in fleet.twins.items() if any(a.id == announcement_id for a in t.desired.announcements)}


def test_a_municipality_publishes_to_its_own_benches(login, fleet: FakeFleet) -> None:  # type: ignore[no-untyped-def]
    mo = login("mo")
    answer = mo.post("/announcements", json=BODY)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    doc = answer.get_json()
    mostar = {b for b, t in fleet.twins.items() if t.attributes.municipality == "Mostar"}
    assert _carrying(fleet, doc["id"]) == mostar
    assert {r["bench_id"] for r in doc["results"]} == mostar
    page = mo.get("/announcements").get_data(as_text=True)
    assert "Sutra čistimo park" in page
    removed = mo.post(f"/announcements/{doc['id']}/remove", headers={"Accept": "application/json"}, json={})
    assert removed.status_code == 200
    assert _carrying(fleet, doc["id"]) == set()


def test_another_towns_benches_are_refused(login, fleet: FakeFleet) -> None:  # type: ignore[no-untyped-def]
    answer = login("mo").post("/announcements", json={**BODY, "municipality": "Trebinje"})
    assert answer.status_code == 403
    assert all(not t.desired.announcements for t in fleet.twins.values())


def test_a_bad_announcement_names_the_fields(login) -> None:  # type: ignore[no-untyped-def]
    answer = login("ada").post("/announcements", json={**BODY, "text": {"bs": "Samo bosanski"}})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"text"}
