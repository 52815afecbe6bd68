"""The alarms page in headless Chromium: a municipality user sees only their alarms, acknowledges and assigns
them; a new alarm appears live; the bench page lists the bench's alarms. Alarms live in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ops.alarms import AlarmFilter, AlarmStore, BenchFindings
from fleet.ops.audit import AuditLog, AuditQuery
from tests.dashboards.dash_support import PASSWORD, make_config, start_live
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.served import chromium, log_in, served
from twins.alarm_rules import RULES_BY_CODE, Finding
from twins.reasons import Reason


@pytest.fixture
def audit(db_url: str, fleet: FakeFleet) -> Iterator[AuditLog]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield AuditLog(engine, fleet.clock)
    engine.dispose()


@pytest.fixture
def store(audit: AuditLog) -> AlarmStore:
    """The alarm store as the runtime wires it: acknowledgements go to the audit log in their transaction."""
    return AlarmStore(audit.engine, audit=audit.record)


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, store: AlarmStore) -> Iterator[str]:
    app: Flask
    app = create_app(make_config(live_interval_s=0.2), fleet, user_store, store)
    start_live(app, fleet)  # as the composition root does: the bridge and the alarm announcer start
    with served(app) as url:
        yield url
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


@pytest.fixture
def page(base: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        yield context.new_page()
        context.close()


def _raise(store: AlarmStore, fleet: FakeFleet, bench_id: str, municipality: str, rule: str, message: Reason) -> None:
    found = {rule: Finding(RULES_BY_CODE[rule], message)}
    store.observe([BenchFindings(bench_id, municipality, found)], fleet.now(), [RULES_BY_CODE[rule]])


def test_acknowledge_and_assign_in_the_browser(
    page: Any, base: str, store: AlarmStore, audit: AuditLog, fleet: FakeFleet, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _raise(store, fleet, "mostar-01", "Mostar", "tamper", Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))
    _raise(
        store,
        fleet,
        "trebinje-01",
        "Trebinje",
        "config_rejected",
        Reason("config_rejected", {"version": 3, "error": "bad poll"}),
    )
    log_in(page, base, "mo", PASSWORD)
    page.goto(f"{base}/alarms")
    rows = page.locator("#alarm-table tbody tr")
    expect(rows).to_have_count(1)  # Trebinje's alarm is not Mostar's business
    row = rows.first
    expect(row.locator(".bench")).to_have_text("mostar-01")
    expect(row.locator(".state")).to_have_text("active")

    row.locator(".ack-comment").fill("crew on the way")
    row.locator(".ack").click()
    expect(row.locator(".state")).to_have_text("acknowledged")
    expect(rows.first.locator(".acked")).to_contain_text("mo")
    expect(rows.first.locator(".acked")).to_contain_text("crew on the way")
    rows.first.locator(".assign-to").fill("Emir")
    rows.first.locator(".assign").click()
    expect(rows.first.locator(".assignee")).to_have_text("Emir")

    (alarm,) = store.search(AlarmFilter(bench_id="mostar-01"))
    assert (alarm.state, alarm.acknowledged_by, alarm.assignee) == ("acknowledged", "mo", "Emir")
    history = [(t.action, t.actor, t.detail) for t in store.history(alarm.id)]
    assert history[1:] == [("acknowledged", "mo", "crew on the way"), ("assigned", "mo", "Emir")]
    logged = audit.entries(AuditQuery(bench_id="mostar-01"), None)
    assert [(e.action, e.actor, e.target) for e in reversed(logged)] == [
        ("alarm.acknowledge", "mo", f"alarm:{alarm.id}"),
        ("alarm.assign", "mo", f"alarm:{alarm.id}"),
    ]
    assert logged[0].after["assignee"] == "Emir"
    assert logged[0].before["assignee"] is None

    # A new alarm shows up live (the alert event), without reloading the page.
    _raise(store, fleet, "mostar-02", "Mostar", "tamper", Reason("alarm_tamper", {"at": "2026-11-26T10:00Z"}))
    expect(rows).to_have_count(2, timeout=10_000)
    expect(page.locator("#alarm-table tbody tr[data-severity=critical]")).to_have_count(2)
    page.screenshot(path=str(artifacts / "alarms-page.png"), full_page=True)

    page.select_option("select[name=severity]", "critical")
    page.fill("input[name=bench_id]", "mostar-02")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".bench")).to_have_text("mostar-02")

    page.goto(f"{base}/benches/mostar-01")
    box = page.locator("#bench-alarms")
    expect(box.locator(".count")).to_have_text("1")
    expect(box.locator("li")).to_contain_text("tamper")


def test_the_worst_alarm_comes_first_not_the_newest(page: Any, base: str, store: AlarmStore, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    _raise(store, fleet, "mostar-01", "Mostar", "tamper", Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))
    _raise(  # raised after the tamper: the API lists it first (newest first)
        store, fleet, "mostar-02", "Mostar", "config_rejected", Reason("config_rejected", {"version": 3, "error": "x"})
    )
    assert [a.severity for a in store.search(AlarmFilter(municipality="Mostar"))] == ["major", "critical"]
    log_in(page, base, "mo", PASSWORD)
    page.goto(f"{base}/alarms")
    rows = page.locator("#alarm-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-severity", "critical")
    expect(rows.nth(1)).to_have_attribute("data-severity", "major")
    rows.first.locator(".ack").click()  # an acknowledged alarm goes below the active ones
    expect(rows.nth(0)).to_have_attribute("data-severity", "major")
    expect(rows.nth(1)).to_have_attribute("data-state", "acknowledged")
