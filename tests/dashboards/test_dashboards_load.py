"""The fleet page with 10,000 twins in headless Chromium: every marker drawn, table paged, live batch applied.

Timings are not asserted here (a timed test flakes on a shared machine): benchmarks/fleet_page_load.py
measures the load against a bare Plotly page in the same run, and docs/performance.md records it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.events import TwinChanged
from fleet.service_api import EVERYTHING
from tests.dashboards.dash_support import PASSWORD, make_config, start_live
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.dashboards.served import chromium, log_in, served
from twins.clock import ManualClock
from twins.twin import Attributes, apply_status, apply_telemetry, new_twin

pytestmark = [pytest.mark.browser, pytest.mark.slow]
N = 10_000


def big_fleet(clock: ManualClock, n: int = N) -> FakeFleet:
    """n benches spread over Bosnia and Herzegovina's bounding box, most reporting, some silent or offline."""
    from twins.messages import Status

    rng = random.Random(7)
    twins = []
    now = clock.now()
    for i in range(n):
        bench_id = f"bench-{i:05d}"
        twin = new_twin(
            bench_id,
            Attributes(
                name=f"Bench {i}",
                municipality=f"Municipality {i % 140}",
                lat=rng.uniform(42.6, 45.2),
                lon=rng.uniform(15.8, 19.6),
            ),
        )
        if i % 10:  # 90 % report
            sample = telemetry(
                bench_id,
                now - timedelta(seconds=rng.randint(0, 600)),
                i,
                soc=rng.uniform(3, 100),
                load=rng.uniform(0, 70),
            )
            twin, _ = apply_telemetry(twin, sample, now - timedelta(seconds=rng.randint(0, 600)))
        if i % 17 == 0:
            twin, _ = apply_status(twin, Status(v=1, bench_id=bench_id, ts=now, online=False, reason="lost"), now)
        twins.append(twin)
    return FakeFleet(clock, twins)


@pytest.fixture(scope="module")
def big_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, FakeFleet]]:
    from datetime import UTC, datetime

    store = UserStore.from_url(f"sqlite:///{tmp_path_factory.mktemp('load') / 'users.sqlite3'}")
    store.add_user("ada", PASSWORD, "admin", locale="en")
    fleet = big_fleet(ManualClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)))
    app = create_app(make_config(), fleet, store)
    start_live(app, fleet)
    yield app, fleet
    app.extensions["benchfleet"].live.stop()


def test_fleet_page_with_10000_twins_renders_and_goes_live(big_app: tuple[Flask, FakeFleet], artifacts: Path) -> None:
    app, fleet = big_app
    results: dict[str, Any] = {"benches": N}
    with served(app) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        log_in(page, base, "ada", PASSWORD)  # the first load (also warms caches) is not measured
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            page.goto(f"{base}/fleet")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            timings.append(time.perf_counter() - start)
        points = page.evaluate("() => document.getElementById('fleet-map').data[0].x.length")
        results["last_load_breakdown_ms"] = page.evaluate(
            """() => {
                 const nav = performance.getEntriesByType('navigation')[0];
                 const data = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/fleet/data.json'));
                 return {dom_content_loaded: Math.round(nav.domContentLoadedEventEnd),
                         data_json_received: Math.round(data.responseEnd),
                         ready: Math.round(performance.now())};
               }"""
        )
        rows = page.locator("#fleet-table tbody tr").count()
        # A live batch touching every bench: the worst case one coalescing window lets through.
        page.wait_for_selector("#live-status[data-state=live]")
        fleet.clock.advance(timedelta(minutes=30))  # every bench turns stale, but half report again,
        now = fleet.now()  # fresh and charged: colours change everywhere, in both directions
        for i, bench_id in enumerate(sorted(fleet.twins)):
            if i % 2 == 0:
                sample = telemetry(bench_id, now, 10**6 + i, soc=90.0)
                fleet.twins[bench_id], _ = apply_telemetry(fleet.twins[bench_id], sample, now)
        batch_start = time.perf_counter()
        for twin in fleet.list_twins(EVERYTHING):
            fleet.listeners[0](TwinChanged(twin, "telemetry"))
        page.wait_for_selector("body[data-live-updates]", timeout=10_000)
        results["live_batch_10000_applied_s"] = round(time.perf_counter() - batch_start, 3)
        colours = page.evaluate("() => new Set(document.getElementById('fleet-map').data[0].marker.color).size")
        page.screenshot(path=str(artifacts / "fleet-10000.png"))
        context.close()
    results["page_load_s"] = [round(t, 3) for t in timings]
    results["page_load_median_s"] = round(sorted(timings)[1], 3)
    client = app.test_client()
    with client:
        client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": _csrf(client)})
        start = time.perf_counter()
        body = client.get("/fleet/data.json").get_data()
        results["data_json_s"] = round(time.perf_counter() - start, 3)
        results["data_json_kib"] = round(len(body) / 1024)
    (artifacts / "fleet-load.json").write_text(json.dumps(results, indent=2))
    assert points == N
    assert colours >= 3
    assert rows == 100  # one page of the table; the rest is paged, sorted and filtered in the browser


def _csrf(client: Any) -> str:
    from tests.dashboards.dash_support import csrf_of

    return csrf_of(client)


def test_a_fleet_drawn_in_cells_still_sorts_opens_benches_and_goes_live(big_app: tuple[Flask, FakeFleet]) -> None:
    """Above the page's marker limit (lowered here to 2,000) the map draws cells; the page still does its job."""
    from playwright.sync_api import expect

    app, fleet = big_app
    rows = "#fleet-table tbody tr"
    with served(app) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        context.add_init_script("window.FLEET_MAX_MARKERS = 2000")
        page = context.new_page()
        log_in(page, base, "ada", PASSWORD)
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert page.get_attribute("#fleet-map", "data-markers") == "cells"
        counts = page.evaluate("() => document.getElementById('fleet-map').data[0].text")
        assert len(counts) < N
        assert sum(counts) == N  # every bench in exactly one cell
        expect(page.locator(rows).first.locator("td.health")).to_have_class("health critical")  # attention first
        # Sortable: battery ascending, then descending (benches without a sample last either way).
        socs = {t.bench_id: round(t.telemetry.battery.soc_pct, 1) for t in fleet.list_twins(EVERYTHING) if t.telemetry}
        page.click("th[data-sort='battery.soc_pct']")  # the table is redrawn within the click
        assert socs[page.locator(rows).first.get_attribute("data-bench") or ""] == min(socs.values())
        page.click("th[data-sort='battery.soc_pct']")
        assert socs[page.locator(rows).first.get_attribute("data-bench") or ""] == max(socs.values())
        page.click("th[data-sort='battery.soc_pct']")
        # A live update is applied: the bench nearly empties, leads the ascending sort and turns critical on the map.
        target = "bench-00001"
        fleet.ingest_telemetry(telemetry(target, fleet.now(), 10**7, soc=1.5))
        expect(page.locator(rows).first).to_have_attribute("data-bench", target)
        # A click on a cell of many benches zooms in; close enough, the cells become benches.
        x_span = "() => { const r = document.getElementById('fleet-map')._fullLayout.xaxis.range; return r[1] - r[0]; }"
        before = page.evaluate(x_span)
        many = page.evaluate("() => document.getElementById('fleet-map').data[0].text.findIndex((n) => n > 1)")
        _click_marker(page, many)
        page.wait_for_function(f"() => ({x_span})() < {before} / 4")
        lon, lat = fleet.twins[target].attributes.lon, fleet.twins[target].attributes.lat
        page.evaluate(
            "([x, y]) => Plotly.relayout('fleet-map', "
            "{'xaxis.range': [x - 0.1, x + 0.1], 'yaxis.range': [y - 0.05, y + 0.05]})",
            [lon, lat],
        )
        page.wait_for_selector("#fleet-map[data-markers=benches]")
        # The redraw for this view has landed once the target's own marker is there.
        find = f"() => document.getElementById('fleet-map').data[0].customdata.indexOf('{target}')"
        page.wait_for_function(f"() => ({find})() >= 0")
        index = page.evaluate(find)
        colour = page.evaluate(f"() => document.getElementById('fleet-map').data[0].marker.color[{index}]")
        assert colour == "#c62828"  # critical
        _click_marker(page, index)
        page.wait_for_url(f"{base}/benches/{target}")
        context.close()


def _click_marker(page: Any, index: int) -> None:
    """Hover the bench trace's marker ``index`` until Plotly reports it (its click uses the hover), then click."""
    x, y = page.evaluate(
        """(i) => { const d = document.getElementById('fleet-map'), t = d.data[0];
        const xa = d._fullLayout.xaxis, ya = d._fullLayout.yaxis, box = d.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(t.x[i]), box.top + ya._offset + ya.l2p(t.y[i])]; }""",
        index,
    )
    page.mouse.move(x, y)
    page.wait_for_function(
        "(i) => { const h = document.getElementById('fleet-map')._hoverdata;"
        " return !!h && h.length > 0 && h[0].curveNumber === 0 && h[0].pointNumber === i; }",
        arg=index,
    )
    page.mouse.click(x, y)
