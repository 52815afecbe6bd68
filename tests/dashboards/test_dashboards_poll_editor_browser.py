"""The poll editor's list in headless Chromium: a municipality's polls only, edit, close early and delete through
versioned desired-config changes, the state per bench following the benches, and counted votes kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.ops.alarms import AlarmStore
from tests.dashboards.dash_support import PASSWORD, POLL, make_config, start_live, with_poll
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.served import chromium, log_in, served

COLOUR = dict(POLL, id="bench-colour", question=dict.fromkeys(("bs", "hr", "sr", "en"), "Boja klupe?"))
TREBINJE = dict(POLL, id="treb-square")


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, alarm_store: AlarmStore) -> Iterator[str]:
    app: Flask = create_app(make_config(live_interval_s=0.2), fleet, user_store, alarm_store)
    start_live(app, fleet)
    with_poll(fleet, "mostar-01")
    fleet.patch_desired("mostar-01", {"polls": [POLL, COLOUR]}, None, "test")
    fleet.patch_desired("trebinje-01", {"polls": [TREBINJE]}, None, "test")
    with served(app) as url:
        yield url
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


@pytest.fixture
def page(base: str) -> Iterator[Any]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, base, "mo", PASSWORD)
        page.goto(f"{base}/participation/editor")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#live-status[data-state=live]")
        yield page


def _row(page: Any, poll_id: str) -> Any:
    return page.locator(f"#poll-table tr[data-poll='{poll_id}']")


def test_the_list_shows_the_towns_polls_and_follows_the_benches(page: Any, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#poll-table tbody tr")).to_have_count(2)  # Mostar's two, not Trebinje's
    expect(_row(page, "treb-square")).to_have_count(0)
    row = _row(page, "park-2026")
    expect(row).to_have_attribute("data-states", "pending")
    expect(row.locator(".poll-states")).to_have_text("pending: 1")
    fleet.report_config("mostar-01", fleet.get_twin("mostar-01").desired_version)  # type: ignore[union-attr]
    expect(row).to_have_attribute("data-states", "applied")  # live, without a reload
    expect(row.locator(".poll-states")).to_have_text("applied: 1")


def test_edit_pushes_a_new_version_conditional_on_the_one_listed(page: Any, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    before = fleet.get_twin("mostar-01").desired_version  # type: ignore[union-attr]
    _row(page, "bench-colour").locator("button.edit").click()
    expect(page.locator("#poll-form input[name=id]")).to_have_value("bench-colour")
    assert page.locator("#poll-form input[name=id]").evaluate("el => el.readOnly") is True
    page.fill("#poll-form input[name='question.en']", "Which colour for the bench?")
    page.click("#poll-form button[type=submit]")
    item = page.locator("#poll-push-results li[data-bench='mostar-01']")
    expect(item).to_have_attribute("data-state", "pending")
    twin = fleet.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired_version == before + 1
    assert twin.desired.poll("bench-colour").question["en"] == "Which colour for the bench?"  # type: ignore[union-attr]
    assert twin.desired.poll("park-2026") is not None  # the other poll untouched
    assert fleet.patches[-1][2] == "mo"  # the change is the user's (the fleet audits it as theirs)
    fleet.report_config("mostar-01", twin.desired_version)
    expect(item).to_have_attribute("data-state", "applied")
    expect(_row(page, "bench-colour")).to_have_attribute("data-states", "applied")
    # A change made elsewhere after the list was read: the edit is refused for that bench, not overwritten.
    page.fill("#poll-form input[name='question.en']", "Stale edit")
    fleet.patch_desired("mostar-01", {"telemetry_interval_s": 120}, None, "someone else")
    page.click("#poll-form button[type=submit]")
    expect(item).to_have_attribute("data-state", "conflict")
    assert fleet.get_twin("mostar-01").desired.poll("bench-colour").question["en"] != "Stale edit"  # type: ignore[union-attr]


def test_close_early_keeps_the_votes_and_a_poll_with_votes_is_not_deleted(page: Any, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    fleet.vote("mostar-01", "park-2026", "yes")
    fleet.vote("mostar-01", "park-2026", "no")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    row = _row(page, "park-2026")
    expect(row).to_contain_text("2 votes")
    expect(row.locator("button.delete")).to_be_disabled()
    row.locator("button.close").click()
    expect(row).to_have_attribute("data-phase", "closed")
    closed = fleet.get_twin("mostar-01").desired.poll("park-2026")  # type: ignore[union-attr]
    assert closed is not None
    assert closed.closes == fleet.now()
    assert fleet.get_twin("mostar-01").counted_votes["park-2026"] == {"yes": 1, "no": 1}  # type: ignore[union-attr]
    expect(row).to_contain_text("2 votes")


def test_delete_takes_a_poll_without_votes_off_the_benches(page: Any, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    _row(page, "bench-colour").locator("button.delete").click()
    expect(_row(page, "bench-colour")).to_have_count(0)
    twin = fleet.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired.poll("bench-colour") is None
    assert twin.desired.poll("park-2026") is not None
    assert fleet.get_twin("trebinje-01").desired.poll("treb-square") is not None  # type: ignore[union-attr]


def test_an_admin_saves_one_poll_for_several_municipalities(login: Any, fleet: FakeFleet) -> None:
    ada = login("ada")
    answer = ada.post("/participation/polls", json={"municipalities": ["Mostar", "Trebinje"], "poll": COLOUR})
    assert answer.status_code == 200
    assert sorted(r["bench_id"] for r in answer.get_json()["results"]) == ["mostar-01", "trebinje-01"]
    assert fleet.get_twin("maglaj-01").desired.poll("bench-colour") is None  # type: ignore[union-attr]
    # A municipality user may not name another town among several.
    mo = login("mo")
    refused = mo.post("/participation/polls", json={"municipalities": ["Mostar", "Trebinje"], "poll": COLOUR})
    assert refused.status_code == 403
