"""Health reasons and alarm messages as a person reads them in Chromium: in Bosnian and Serbian Cyrillic, with a
fault present, the bench, alarms and participation pages show no English reason or alarm text, and chart date
axes name the months in the page's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.ops.alarms import AlarmStore, BenchFindings
from tests.dashboards.dash_support import PASSWORD, make_config, start_live, with_poll
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.dashboards.served import chromium, log_in, served
from twins.alarm_rules import RULES_BY_CODE, Finding
from twins.reasons import Reason

#: English phrases of the fault's health reason and alarm messages: none may reach a bs or sr_Cyrl page.
ENGLISH = ("battery at", "tamper sensor fired", "below", "charging inhibited", "No problems")
#: What each language shows instead: the health reason (battery at 4 %) and the tamper alarm.
EXPECTED = {
    "bs": ("baterija na 4 %", "senzor neovlaštenog otvaranja"),
    "sr_Cyrl": ("батерија на 4 %", "сензор неовлашћеног отварања"),
}


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, alarm_store: AlarmStore) -> Iterator[str]:
    app: Flask = create_app(make_config(live_interval_s=0.2), fleet, user_store, alarm_store)
    start_live(app, fleet)
    with_poll(fleet, "mostar-01")
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=4.0))  # nearly empty: a health reason
    tamper = RULES_BY_CODE["tamper"]
    found = {"tamper": Finding(tamper, Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))}
    alarm_store.observe([BenchFindings("mostar-01", "Mostar", found)], fleet.now(), [tamper])
    with served(app) as url:
        yield url
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


def _text(page: Any) -> str:
    return str(page.locator("main").inner_text())


@pytest.mark.parametrize("locale", ["bs", "sr_Cyrl"])
def test_no_english_reason_or_alarm_text(base: str, fleet: FakeFleet, user_store: UserStore, locale: str) -> None:
    from playwright.sync_api import expect

    user_store.set_locale("ada", locale)
    reason, alarm = EXPECTED[locale]
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            log_in(page, base, "ada", PASSWORD)
            page.goto(f"{base}/benches/mostar-01")
            expect(page.locator("#health-reasons")).to_contain_text(reason)
            expect(page.locator("#bench-alarms")).to_contain_text(alarm)  # the bench's open alarms
            page.wait_for_selector("body[data-charts-ready=true]")
            # A live update re-renders the reasons from the event's code and parameters.
            fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 2, soc=4.0))
            expect(page.locator("#health-reasons")).to_contain_text(reason)
            text = _text(page)
            assert [w for w in ENGLISH if w in text] == []
            # Chart date axes: Plotly formats with the page's locale (month names of bs / sr Cyrillic).
            assert page.evaluate("document.getElementById('chart-battery')._context.locale") in ("bs", "sr")

            page.goto(f"{base}/alarms")
            expect(page.locator("#alarm-table tbody tr .message")).to_contain_text(alarm)
            options = page.locator("#alarm-filters select[name=severity] option").all_inner_texts()
            assert "critical" not in options
            assert [w for w in ENGLISH if w in _text(page)] == []

            page.goto(f"{base}/participation")
            page.wait_for_selector("body[data-ready=true]")
            assert [w for w in ENGLISH if w in _text(page)] == []
    finally:
        user_store.set_locale("ada", "en")
