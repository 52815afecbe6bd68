"""Fleet page with N twins in headless Chromium, against a bare Plotly page in the same run.

    python benchmarks/fleet_page_load.py --twins 10000 100000 --runs 5

For each fleet size:
(a) bare: a static page that loads the same vendored plotly.min.js and draws N random points in one
    WebGL scattergl trace (no app, no data fetch, no table);
(b) fleet: the real /fleet page of the dashboard (login, /fleet/data.json, map, table, live connection).
Both are served by the same Flask server and loaded in the same browser, alternating; the first load of
each is a warm-up. Prints each median and the ratio fleet/bare, then where a fleet load's time went (the
page's own performance marks: server, transfer, parse, arrays, Plotly draw, table) and the server-side
build of /fleet/data.json measured in-process (cold: every twin summarised; warm: the row cache filled).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboards.app import create_app  # noqa: E402
from dashboards.fleet_data import HEALTH_REUSE_S  # noqa: E402
from fleet.auth.store import UserStore  # noqa: E402
from tests.dashboards.dash_support import PASSWORD, csrf_of, make_config  # noqa: E402
from tests.dashboards.fake_fleet import telemetry  # noqa: E402
from tests.dashboards.served import chromium, log_in, served  # noqa: E402
from tests.dashboards.test_dashboards_load import big_fleet  # noqa: E402
from twins.clock import ManualClock  # noqa: E402

BARE = """<!doctype html><html><head><script src="/static/vendor/plotly.min.js"></script></head>
<body><div id="m" style="width:1300px;height:500px"></div><script>
const n = %d, x = new Array(n), y = new Array(n);
for (let i = 0; i < n; i++) { x[i] = 15.8 + Math.random() * 3.8; y[i] = 42.6 + Math.random() * 2.6; }
Plotly.newPlot('m', [{type: 'scattergl', mode: 'markers', x: x, y: y}]).then(() => {
  document.body.dataset.ready = 'true'; });
</script></body></html>"""

# Phases of the last fleet load, in ms, from the navigation/resource timings and fleet.js's performance marks.
BREAKDOWN = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const data = performance.getEntriesByType('resource').find((r) => r.name.includes('/fleet/data.json'));
  const mark = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
  return {dom: nav.domContentLoadedEventEnd, request: data.requestStart, first_byte: data.responseStart,
          received: data.responseEnd, kib: data.encodedBodySize / 1024, parsed: mark('fleet:parsed'),
          arrays: mark('fleet:arrays'), plotted: mark('fleet:plotted'), table: mark('fleet:table'),
          ready: mark('fleet:ready')};
}"""

PHASES = (  # label, from, to
    ("HTML + scripts (DOM ready)", None, "dom"),
    ("server: data.json built", "request", "first_byte"),
    ("transfer", "first_byte", "received"),
    ("JSON parse", "received", "parsed"),
    ("marker arrays", "parsed", "arrays"),
    ("Plotly draw", "arrays", "plotted"),
    ("table (first page)", "plotted", "table"),
    ("page ready", None, "ready"),
)


def _server_build(app: Any, fleet: Any, runs: int) -> dict[str, float]:
    """Median in-process time of GET /fleet/data.json: cold (the clock moved past the health reuse, every
    bench's health evaluated) and warm (straight after: the rows held)."""
    client = app.test_client()
    client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": csrf_of(client)})
    cold, warm, size = [], [], 0
    for _ in range(runs):
        fleet.clock.advance(timedelta(seconds=HEALTH_REUSE_S + 1))  # health is re-evaluated for every twin
        start = time.perf_counter()
        size = len(client.get("/fleet/data.json").get_data())
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.get("/fleet/data.json").get_data()
        warm.append(time.perf_counter() - start)
    return {"cold": statistics.median(cold), "warm": statistics.median(warm), "kib": size / 1024}


def _live_batch(page: Any, fleet: Any, runs: int) -> list[float]:
    """Seconds from a batch of 1,000 changed benches leaving the fleet to the open page having redrawn."""
    page.wait_for_selector("#live-status[data-state=live]")
    ids = sorted(fleet.twins)
    out = []
    for run in range(runs):
        before = page.evaluate("() => Number(document.body.dataset.liveUpdates || 0)")
        start = time.perf_counter()
        for k, bench_id in enumerate(ids[run * 97 :: max(1, len(ids) // 1000)][:1000]):
            fleet.ingest_telemetry(telemetry(bench_id, fleet.now(), 10**7 + run, soc=(run * 31 + k) % 100))
        page.wait_for_function(f"() => Number(document.body.dataset.liveUpdates || 0) > {before}", timeout=60_000)
        out.append(time.perf_counter() - start)
    return out


def measure(n: int, runs: int) -> None:
    """Load the bare page and the fleet page ``runs`` times each with ``n`` twins; print the figures."""
    store = UserStore.from_url(f"sqlite:///{Path(tempfile.mkdtemp()) / 'users.sqlite3'}")
    store.add_user("ada", PASSWORD, "admin", locale="en")
    fleet = big_fleet(ManualClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)), n)
    app = create_app(make_config(), fleet, store)
    live = app.extensions["benchfleet"].live
    fleet.subscribe(live.on_event)
    live.start()
    app.add_url_rule("/bench-bare", "bench_bare", lambda: BARE % n)
    bare: list[float] = []
    full: list[float] = []
    phases: list[dict[str, float]] = []
    with served(app) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
        log_in(page, base, "ada", PASSWORD)
        for run in range(runs + 1):
            for url, out in ((f"{base}/bench-bare", bare), (f"{base}/fleet", full)):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("body[data-ready=true]", timeout=120_000)
                if run:  # run 0 warms caches
                    out.append(time.perf_counter() - start)
                    if url.endswith("/fleet"):
                        phases.append(page.evaluate(BREAKDOWN))
        live_s = _live_batch(page, fleet, runs)
    server = _server_build(app, fleet, runs)
    live.stop()
    mb, mf = statistics.median(bare), statistics.median(full)
    print(f"{n} benches, {runs} loads each (min / median / max):")
    print(f"  bare Plotly scattergl page: {min(bare):.2f} / {mb:.2f} / {max(bare):.2f} s")
    print(f"  fleet page:                 {min(full):.2f} / {mf:.2f} / {max(full):.2f} s")
    print(f"  ratio fleet/bare (medians): {mf / mb:.2f}")
    print("  where a fleet load goes (median ms):")
    for label, a, b in PHASES:
        spans = [p[b] - (p[a] if a else 0.0) for p in phases if p.get(b) is not None and (a is None or p.get(a))]
        if spans:
            print(f"    {label:<28} {statistics.median(spans):7.0f}")
    print(f"    data.json size               {statistics.median(p['kib'] for p in phases):7.0f} KiB")
    print(f"  live batch of 1,000 changed benches, event to page redrawn (median): {statistics.median(live_s):.2f} s")
    print(
        f"  server build of /fleet/data.json in-process (median of {runs}): cold {server['cold'] * 1000:.0f} ms,"
        f" warm {server['warm'] * 1000:.0f} ms, {server['kib']:.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--twins", type=int, nargs="+", default=[10_000])
    args = parser.parse_args()
    for n in args.twins:
        measure(n, args.runs)


if __name__ == "__main__":
    main()
