"""Fleet page with 10,000 twins in headless Chromium, against a bare Plotly page in the same run.

    python benchmarks/fleet_page_load.py --runs 5

(a) bare: a static page that loads the same vendored plotly.min.js and draws 10,000 random points in one
    WebGL scattergl trace (no app, no data fetch, no table);
(b) fleet: the real /fleet page of the dashboard (login, /fleet/data.json, map, table, live connection).
Both are served by the same Flask server and loaded in the same browser, alternating; the first load of
each is a warm-up. Prints each median and the ratio fleet/bare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboards.app import create_app  # noqa: E402
from fleet.auth.store import UserStore  # noqa: E402
from tests.dashboards.dash_support import PASSWORD, make_config  # noqa: E402
from tests.dashboards.served import chromium, log_in, served  # noqa: E402
from tests.dashboards.test_dashboards_load import N, big_fleet  # noqa: E402
from twins.clock import ManualClock  # noqa: E402

BARE = """<!doctype html><html><head><script src="/static/vendor/plotly.min.js"></script></head>
<body><div id="m" style="width:1300px;height:500px"></div><script>
const n = %d, x = new Array(n), y = new Array(n);
for (let i = 0; i < n; i++) { x[i] = 15.8 + Math.random() * 3.8; y[i] = 42.6 + Math.random() * 2.6; }
Plotly.newPlot('m', [{type: 'scattergl', mode: 'markers', x: x, y: y}]).then(() => {
  document.body.dataset.ready = 'true'; });
</script></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = UserStore.from_url(f"sqlite:///{Path(tempfile.mkdtemp()) / 'users.sqlite3'}")
    store.add_user("ada", PASSWORD, "admin", locale="en")
    fleet = big_fleet(ManualClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)))
    app = create_app(make_config(), fleet, store)
    live = app.extensions["benchfleet"].live
    fleet.subscribe(live.on_event)
    live.start()
    app.add_url_rule("/bench-bare", "bench_bare", lambda: BARE % N)
    bare, full = [], []
    with served(app) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
        log_in(page, base, "ada", PASSWORD)
        for run in range(args.runs + 1):
            for url, out in ((f"{base}/bench-bare", bare), (f"{base}/fleet", full)):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("body[data-ready=true]", timeout=60_000)
                if run:  # run 0 warms caches
                    out.append(time.perf_counter() - start)
    app.extensions["benchfleet"].live.stop()
    mb, mf = statistics.median(bare), statistics.median(full)
    print(f"{N} benches, {args.runs} loads each (min / median / max):")
    print(f"  bare Plotly scattergl page: {min(bare):.2f} / {mb:.2f} / {max(bare):.2f} s")
    print(f"  fleet page:                 {min(full):.2f} / {mf:.2f} / {max(full):.2f} s")
    print(f"  ratio fleet/bare (medians): {mf / mb:.2f}")


if __name__ == "__main__":
    main()
