"""What a person sees in headless Chromium: error pages in the user's language, and every page at phone width
(the latter on a real runtime: PostgreSQL, Mosquitto, the registry's benches, a rollout and audit entries)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.ops.alarms import AlarmStore
from fleet.service_api import EVERYTHING
from tests.dashboards.dash_support import PASSWORD, make_config, start_live, with_poll
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.dashboards.served import chromium, log_in, served
from tests.services import MosquittoService, PostgresDatabase
from tests.waiting import wait_until
from twins.clock import SystemClock

PHONE = {"width": 360, "height": 800}
#: Every page a logged-in person opens from the header (the bench page of a bench both users may see).
PAGES = ["/fleet", "/benches/mostar-01", "/participation", "/alarms", "/audit", "/rollouts", "/rollouts?id={rid}"]
PHONE_PASSWORD = "phone password 12"


@pytest.fixture
def runtime_app(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """A started runtime with an admin and a Mostar user, one rollout under way; yields the app and its id."""
    from fleet.runtime import build_runtime
    from fleet.settings import Settings

    database = PostgresDatabase()
    database.create()
    broker = MosquittoService(tmp_path / "mosquitto")
    broker.start()
    settings = Settings(
        mqtt=broker.url,
        tsdb=f"sqlite:///{tmp_path / 'series.db'}",
        db=database.url,
        data_dir=str(tmp_path / "data"),
        ingest_client_id=f"phone-{uuid.uuid4().hex[:8]}",
    )
    runtime = build_runtime(settings, SystemClock())
    runtime.start()
    users = UserStore(runtime.engine)
    for name, role, municipality in (("ada", "admin", None), ("mo", "municipality", "Mostar")):
        users.add_user(name, PHONE_PASSWORD, role, municipality=municipality, locale="bs")
    token = users.create_token("ada")
    app = create_app(make_config(), runtime.service, users)
    wait_until(runtime.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    body = {"patch": {"telemetry_interval_s": 120}, "targets": {"municipality": "Mostar"}}
    made = app.test_client().post("/api/rollouts", json=body, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 202
    try:
        yield app, made.get_json()["id"]
    finally:
        app.extensions["benchfleet"].live.stop()
        runtime.stop()
        broker.stop()
        database.drop()


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, alarm_store: AlarmStore) -> Iterator[str]:
    app: Flask = create_app(make_config(live_interval_s=0.2), fleet, user_store, alarm_store)
    start_live(app, fleet)
    with_poll(fleet, "mostar-01")
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=55.0))
    with served(app) as url:
        yield url
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _switch_language(page: Any, locale: str) -> None:
    with page.expect_navigation():
        page.select_option("form.lang select", locale)


def test_another_towns_bench_and_config_are_pages_in_the_users_language(
    browser: Any, base: str, user_store: UserStore
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    log_in(page, base, "mo", PASSWORD)
    _switch_language(page, "bs")
    try:
        answer = page.goto(f"{base}/benches/trebinje-01")
        assert answer is not None
        assert answer.status == 404
        expect(page.locator(".error-page h1")).to_contain_text("Nije pronađeno")
        expect(page.locator("header.top")).to_contain_text("Odjava")  # the usual page around it
        answer = page.goto(f"{base}/config")
        assert answer is not None
        assert answer.status == 403
        expect(page.locator(".error-page h1")).to_contain_text("Nije dozvoljeno")
        # The API keeps answering JSON, even to the same browser.
        answer = page.goto(f"{base}/api/benches/trebinje-01")
        assert answer is not None
        assert answer.status == 404
        assert answer.json()["error"]["code"] == "unknown_bench"
    finally:
        user_store.set_locale("mo", "en")
        page.close()


def test_every_page_fits_a_360_px_phone(browser: Any, runtime_app: tuple[Flask, str]) -> None:
    app, rid = runtime_app
    with served(app) as base:
        for user, extra in (("ada", "/config"), ("mo", "/participation/editor")):
            _check_phone(browser, base, user, [p.format(rid=rid) for p in (*PAGES, extra)])


def _check_phone(browser: Any, base: str, user: str, pages: list[str]) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, base, user, PHONE_PASSWORD)
        wide = {}
        for path in pages:
            answer = page.goto(f"{base}{path}")
            assert answer is not None, path
            assert answer.status == 200, path
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[path] = width
        assert wide == {}, f"{user}: pages wider than {PHONE['width']} px: {wide}"
        # The header still offers the user name and Log out, inside the screen.
        box = page.locator("form.logout button").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"]
    finally:
        context.close()


def test_fleet_page_takes_a_crew_to_the_bench_that_needs_it(browser: Any, base: str, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 2, soc=4.0))  # nearly empty: needs attention
    admin = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(admin, base, "ada", PASSWORD)
    admin.wait_for_selector("body[data-ready=true]")
    expect(admin.locator("#fleet-table tbody tr").first).to_have_attribute("data-bench", "mostar-01")  # first
    headers = admin.locator("#fleet-table th").all_inner_texts()
    assert {"Solar", "Load", "Firmware", "Configuration"} <= set(headers)
    full_range = admin.evaluate("document.getElementById('fleet-map').layout.xaxis.range")
    admin.close()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, base, "mo", PASSWORD)
    page.wait_for_selector("body[data-ready=true]")
    # The hover names the reasons, and the municipality user's map is zoomed to Mostar's benches.
    hover = page.evaluate("document.getElementById('fleet-map').data[0].hovertext")
    bench_ids = page.evaluate("document.getElementById('fleet-map').data[0].customdata")
    reasons = fleet.get_twin("mostar-01").health(fleet.now()).reasons  # type: ignore[union-attr]
    assert reasons
    assert reasons[0].message in hover[bench_ids.index("mostar-01")]
    x_range = page.evaluate("document.getElementById('fleet-map').layout.xaxis.range")
    assert x_range[1] - x_range[0] < (full_range[1] - full_range[0]) / 10
    # Mostar has one bench: the fit still shows its town (at least 0.1° of latitude), not a street.
    y_range = page.evaluate("document.getElementById('fleet-map')._fullLayout.yaxis.range")
    assert y_range[1] - y_range[0] >= 0.1 - 1e-9
    # A click on the marker opens the bench.
    point = page.evaluate(
        """(id) => { const d = document.getElementById('fleet-map'); const i = d.data[0].customdata.indexOf(id);
        const xa = d._fullLayout.xaxis, ya = d._fullLayout.yaxis, box = d.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(d.data[0].x[i]), box.top + ya._offset + ya.l2p(d.data[0].y[i])]; }""",
        "mostar-01",
    )
    page.mouse.move(point[0], point[1])
    page.mouse.click(point[0], point[1])
    page.wait_for_url(f"{base}/benches/mostar-01")


def test_votes_per_bench_are_listed_by_name_and_labelled_on_the_map(browser: Any, base: str, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    with_poll(fleet, "trebinje-01")
    fleet.vote("trebinje-01", "park-2026", "no")
    fleet.vote("mostar-01", "park-2026", "yes")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, base, "ada", PASSWORD)
    page.goto(f"{base}/participation")
    rows = page.locator("#by-bench tbody tr")
    expect(rows).to_have_count(2)
    names = [fleet.get_twin(b).attributes.name for b in ("mostar-01", "trebinje-01")]  # type: ignore[union-attr]
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(2)] == sorted(names)
    assert rows.first.get_attribute("data-bench") == "mostar-01"
    page.wait_for_function("document.getElementById('chart-map').data")
    trace = page.evaluate("document.getElementById('chart-map').data.find(t => t.customdata)")
    assert "text" in trace["mode"]
    assert any(names[0] in t for t in trace["text"])


def test_poll_editor_checks_ids_in_the_browser_without_console_errors(browser: Any, base: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    # Script errors only: a missing resource is checked by its response (the browser's favicon probe is a 404).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "load resource" not in m.text else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    log_in(page, base, "mo", PASSWORD)
    page.goto(f"{base}/participation/editor")
    page.wait_for_selector("body[data-ready=true]")
    poll_id = page.locator("#poll-form input[name=id]")
    poll_id.fill("Park 2026")
    assert poll_id.evaluate("el => el.validity.patternMismatch") is True
    poll_id.fill("park-2026")
    assert poll_id.evaluate("el => el.validity.valid") is True
    option = page.locator("#poll-form input[name='options.0.id']")
    option.fill("da-")
    assert option.evaluate("el => el.validity.valid") is True
    option.fill("-da")
    assert option.evaluate("el => el.validity.patternMismatch") is True
    assert errors == []


def test_fleet_push_shows_common_values_and_asks_naming_the_count(browser: Any, base: str, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    fleet.patch_desired("mostar-01", {"telemetry_interval_s": 120}, None, "test")  # one bench differs
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, base, "ada", PASSWORD)
    page.goto(f"{base}/config")
    page.wait_for_selector("body[data-ready=true]")
    page.check("input[name=target][value=fleet]")
    page.wait_for_selector("#config-form[data-loaded=fleet]")
    expect(page.locator("#f-telemetry_interval_s")).to_have_class("mixed")
    expect(page.locator("#f-telemetry_interval_s")).to_have_value("")
    expect(page.locator("#f-wifi\\.max_clients")).not_to_have_class("mixed")
    shared = fleet.get_twin("trebinje-01").desired.wifi.max_clients  # type: ignore[union-attr]
    expect(page.locator("#f-wifi\\.max_clients")).to_have_value(str(shared))
    asked: list[str] = []

    def decline(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", decline)
    page.fill("#f-wifi\\.max_clients", str(shared + 1))
    page.click("#push")
    page.wait_for_function("document.querySelector('#push-results tbody').children.length === 0")
    benches = len(fleet.list_twins(EVERYTHING))
    assert asked == [f"Push this change to {benches} benches?"]
    assert all(t.desired.wifi.max_clients == shared for t in fleet.list_twins(EVERYTHING))  # declined: unchanged


def test_confirmation_uses_the_languages_plural_forms(login: Any, fleet: FakeFleet) -> None:
    ada = login("ada")
    try:
        ada.post("/locale", data={"locale": "bs", "csrf_token": ada.csrf})
        html = ada.get("/config").get_data(as_text=True)
        benches = len(fleet.list_twins(EVERYTHING))  # 12: Bosnian "12 klupa" (many), not "klupe"
        assert f"Poslati ovu promjenu na {benches} klupa?" in html
        assert "Poslati ovu promjenu na 1 klupu?" in html  # a municipality with one bench
    finally:
        ada.post("/locale", data={"locale": "en", "csrf_token": ada.csrf})


def test_poll_editor_status_follows_the_benches(browser: Any, base: str, fleet: FakeFleet) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, base, "mo", PASSWORD)
    page.goto(f"{base}/participation/editor")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#live-status[data-state=live]")
    page.fill("#poll-form input[name=id]", "bench-colour")
    for lang in page.evaluate("window.POLL_LANGUAGES"):
        page.fill(f"#poll-form input[name='question.{lang}']", "Boja?")
        page.fill(f"#poll-form input[name='options.0.labels.{lang}']", "Zelena")
        page.fill(f"#poll-form input[name='options.1.labels.{lang}']", "Plava")
    page.fill("#poll-form input[name='options.0.id']", "green")
    page.fill("#poll-form input[name='options.1.id']", "blue")
    page.fill("#poll-form input[name=opens]", "2026-11-26T08:00")
    page.fill("#poll-form input[name=closes]", "2026-12-26T08:00")
    page.click("#poll-form button[type=submit]")
    item = page.locator("#poll-push-results li[data-bench='mostar-01']")
    expect(item).to_have_attribute("data-state", "pending")
    version = int(item.get_attribute("data-version") or 0)
    fleet.report_config("mostar-01", version, "applied")
    expect(item).to_have_attribute("data-state", "applied")


def test_config_form_names_every_field_with_unit_and_help_and_shows_all_errors_in_words(
    browser: Any, base: str, user_store: UserStore
) -> None:
    from playwright.sync_api import expect

    from dashboards.config_form import FIELDS

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(page, base, "ada", PASSWORD)
    _switch_language(page, "bs")
    try:
        page.goto(f"{base}/config")
        page.wait_for_selector("body[data-ready=true]")
        labels = page.locator(".fields .field label").all_inner_texts()
        assert len(labels) == len(FIELDS)
        assert not any(f.path in " ".join(labels) for f in FIELDS)  # no raw config key shown
        assert "Interval telemetrije (s)" in labels
        helps = page.locator(".fields .field .help").all_inner_texts()
        assert len(helps) == len(FIELDS)
        assert all(h.strip() for h in helps)
        assert "Dozvoljeno: od 5\u202fs do 3.600\u202fs." in helps[0]  # the model's range, Bosnian digits
        page.fill("#f-telemetry_interval_s", "1")
        page.fill("#f-wifi\\.max_clients", "2.5")
        page.fill("#f-display\\.on_hours\\.start", "7 ujutro")
        page.click("#push")
        expect(page.locator(".field-error[data-for='telemetry_interval_s']")).to_have_text("mora biti najmanje 5")
        expect(page.locator(".field-error[data-for='wifi.max_clients']")).to_have_text("mora biti cijeli broj")
        expect(page.locator(".field-error[data-for='display.on_hours.start']")).not_to_be_empty()
        assert "pattern" not in page.locator("#config-form").inner_text()  # words, never validator text
    finally:
        user_store.set_locale("ada", "en")
        page.close()
