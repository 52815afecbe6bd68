"""Issue 13, part 3: the report archive page, reports on demand and the monthly mail's recipients, scoped by
municipality (admin and maintenance see every town and the fleet report). PostgreSQL, a SQLite TSDB, Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.reports.archive import ArchivedReport, store_report
from fleet.reports.desk import ReportDesk
from fleet.reports.recipients import recipients
from fleet.service_api import EVERYTHING
from fleet.tsdb import open_tsdb
from tests.dashboards.dash_support import PASSWORD, LoggedIn, make_config
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.served import chromium, log_in, served
from twins.clock import ManualClock

Login = Callable[[str], LoggedIn]
MADE = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def desk(db_url: str, tmp_path: Path, fleet: FakeFleet, clock: ManualClock) -> Iterator[ReportDesk]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    tsdb = open_tsdb(f"sqlite:///{tmp_path / 'series.db'}")
    yield ReportDesk(engine, tsdb, lambda: fleet.list_twins(EVERYTHING), clock)
    tsdb.close()
    engine.dispose()


@pytest.fixture
def archived(desk: ReportDesk, tmp_path: Path) -> dict[str, ArchivedReport]:
    folder = tmp_path / "reports"
    return {
        key: store_report(desk.engine, folder, town, "2026-10", "html", "bs", f"<p>{key} report</p>".encode(), MADE)
        for key, town in (("Mostar", "Mostar"), ("Trebinje", "Trebinje"), ("fleet", None))
    }


@pytest.fixture
def reports_app(fleet: FakeFleet, user_store: UserStore, desk: ReportDesk) -> Flask:
    return create_app(make_config(), fleet, user_store, None, None, desk)


@pytest.fixture
def as_user(reports_app: Flask) -> Login:
    return lambda name: LoggedIn(reports_app.test_client(), name)


def test_a_town_sees_and_downloads_only_its_reports(as_user: Login, archived: dict[str, ArchivedReport]) -> None:
    mo = as_user("mo")
    page = mo.get("/reports").get_data(as_text=True)
    assert f'data-report="{archived["Mostar"].id}"' in page
    assert f'data-report="{archived["Trebinje"].id}"' not in page
    assert f'data-report="{archived["fleet"].id}"' not in page
    mine = mo.get(f"/reports/archive/{archived['Mostar'].id}")
    assert mine.status_code == 200
    assert mine.data == b"<p>Mostar report</p>"
    assert mo.get(f"/reports/archive/{archived['Trebinje'].id}").status_code == 404
    assert mo.get(f"/reports/archive/{archived['fleet'].id}").status_code == 404


@pytest.mark.parametrize("name", ["ada", "max"])
def test_the_fleet_roles_see_every_report(as_user: Login, archived: dict[str, ArchivedReport], name: str) -> None:
    page = as_user(name).get("/reports").get_data(as_text=True)
    assert all(f'data-report="{r.id}"' in page for r in archived.values())
    assert as_user(name).get(f"/reports/archive/{archived['fleet'].id}").data == b"<p>fleet report</p>"


def test_a_report_on_demand_is_a_download_of_ones_own_town(as_user: Login) -> None:
    mo = as_user("mo")
    made = mo.get("/reports/make?municipality=Mostar&period=2026-11&format=csv")
    assert made.status_code == 200, made.get_data(as_text=True)
    assert made.mimetype == "text/csv"
    assert 'filename="benchfleet-Mostar-2026-11.csv"' in made.headers["Content-Disposition"]
    html = mo.get("/reports/make?municipality=Mostar&period=2026-11&format=html").get_data(as_text=True)
    assert "Mostar" in html
    assert "Trebinje" not in html
    assert mo.get("/reports/make?municipality=Trebinje&period=2026-11&format=csv").status_code == 404
    assert mo.get("/reports/make?municipality=_fleet&period=2026-11&format=csv").status_code == 404
    bad = mo.get("/reports/make?municipality=Mostar&period=november&format=csv")
    assert bad.status_code == 400  # the form's download link: a page that names the bad period
    assert "november" in bad.get_data(as_text=True)
    assert mo.get("/reports/make?municipality=Mostar&period=2026-11&format=docx").status_code == 400
    assert as_user("ada").get("/reports/make?municipality=_fleet&period=2026-11&format=csv").status_code == 200


def test_recipients_are_managed_per_town(as_user: Login, desk: ReportDesk) -> None:
    mo = as_user("mo")
    added = mo.post("/reports/recipients", json={"municipality": "Mostar", "email": "ured@mostar.ba"})
    assert added.get_json() == {"changed": True, "recipients": {"Mostar": ["ured@mostar.ba"]}}
    assert mo.post("/reports/recipients", json={"municipality": "Trebinje", "email": "x@y.ba"}).status_code == 404
    bad = mo.post("/reports/recipients", json={"municipality": "Mostar", "email": "not an address"})
    assert bad.status_code == 422
    assert "not an address" in bad.get_json()["error"]["message"]
    assert (
        as_user("ada")
        .post("/reports/recipients", json={"municipality": "Trebinje", "email": "grad@trebinje.org"})
        .get_json()["changed"]
    )
    assert "grad@trebinje.org" not in mo.get("/reports").get_data(as_text=True)
    assert (
        as_user("max").post("/reports/recipients", json={"municipality": "Mostar", "email": "m@x.ba"}).status_code
        == 403
    )
    removed = mo.post("/reports/recipients/remove", json={"municipality": "Mostar", "email": "ured@mostar.ba"})
    assert removed.get_json()["changed"] is True
    assert recipients(desk.engine) == {"Trebinje": ["grad@trebinje.org"]}


def test_archive_page_in_the_browser(
    reports_app: Flask, archived: dict[str, ArchivedReport], desk: ReportDesk, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    with served(reports_app) as base, chromium() as browser:
        page: Any = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        log_in(page, base, "mo", PASSWORD)
        page.goto(f"{base}/reports")
        rows = page.locator("#report-archive tbody tr[data-report]")
        expect(rows).to_have_count(1)
        expect(rows.locator(".municipality")).to_have_text("Mostar")
        with page.expect_download() as got:
            rows.locator("a.download").click()
        assert Path(got.value.path()).read_bytes() == b"<p>Mostar report</p>"
        page.fill("#recipient-add input[name=email]", "ured@mostar.ba")
        page.click("#recipient-add button[type=submit]")
        expect(page.locator("#report-recipients .email")).to_have_text(["ured@mostar.ba"])
        page.screenshot(path=str(artifacts / "report-archive.png"))
    assert recipients(desk.engine) == {"Mostar": ["ured@mostar.ba"]}
