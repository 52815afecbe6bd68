"""Screenshots of the demo for the README: starts `benchfleet demo`, logs in, saves each page.

.venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--warmup 30] [--timeout 300]

It waits until the demo scenario's faults (simulator/scenarios/data/demo.toml) have raised alarms
(tamper at mostar-01 and trebinje-01 offline, by default), so the fleet, bench and alarms pictures show a
fault; publishes an announcement to the shown bench's municipality and takes that bench's kiosk.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboards.served import chromium, log_in  # noqa: E402
from tests.services import free_port  # noqa: E402

BENCH = "mostar-01"
"""The bench page and kiosk shown, if it has a fault by then (otherwise the first bench with an alarm)."""
WANTED_ALARMS = {("mostar-01", "tamper"), ("trebinje-01", "offline")}
"""(bench, rule) of the active alarms to wait for: the demo scenario's first faults."""
ANNOUNCEMENT = {
    "bs": "Subota 10 h: zajedno čistimo park pored klupe.",
    "hr": "Subota 10 h: zajedno čistimo park pokraj klupe.",
    "sr": "Субота 10 ч: заједно чистимо парк поред клупе.",
    "en": "Saturday 10 am: let's clean the park by the bench together.",
}
# What tells that a page has drawn its content (charts, map, lists), not only loaded.
READY = {
    "fleet.png": "body[data-ready=true]",
    "bench.png": "#bench-alarms:not([data-count=''])",
    "participation.png": "body[data-ready=true]",
    "config.png": "body[data-ready=true]",
    "alarms.png": "#alarm-table[data-loaded]",
}


def wait_for_faults(page: Any, base: str, timeout: float) -> list[dict[str, Any]]:
    """Poll the API until the wanted alarms are active; their list."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = page.request.get(f"{base}/api/alerts?state=active").json()["alerts"]
        have = {(a["bench_id"], a["rule"]) for a in alerts}
        if have >= WANTED_ALARMS:
            return list(alerts)
        if time.monotonic() > deadline:
            raise SystemExit(f"no {sorted(WANTED_ALARMS - have)} alarm after {timeout:.0f} s (active: {sorted(have)})")
        time.sleep(2)


def publish_announcement(page: Any, base: str, municipality: str) -> None:
    """Through the Announcements page's form, as a municipality's user would (start now, end in a week)."""
    page.goto(f"{base}/announcements")
    page.select_option("select[name=municipality]", municipality)
    for lang, text in ANNOUNCEMENT.items():
        page.fill(f"input[name='text.{lang}']", text)
    page.click("#announcement-form button[type=submit]")
    page.wait_for_selector("#announcement-list li")


def wait_until_applied(page: Any, base: str, bench: str, timeout: float) -> None:
    """Until the bench has applied its desired config (the announcement), so no page shows it pending."""
    deadline = time.monotonic() + timeout
    while page.request.get(f"{base}/api/benches/{bench}").json()["config_state"] != "applied":
        if time.monotonic() > deadline:
            raise SystemExit(f"{bench} did not apply the announcement within {timeout:.0f} s")
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--warmup", type=float, default=30.0, help="Seconds of demo at least before the pictures.")
    parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait for the scenario's alarms.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    data = tempfile.mkdtemp(prefix="benchfleet-shots-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "demo", "--http", f"127.0.0.1:{port}", "--data-dir", data],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BENCHFLEET_LOG_LEVEL": "WARNING"},
        text=True,
    )
    password = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"login admin / (\S+)\)", line):
            password = m.group(1)
            break
    if password is None:
        raise SystemExit("the demo did not print its login")
    started = time.monotonic()
    base = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    try:
        with chromium() as browser:
            page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()

            def console(msg: Any) -> None:
                if msg.type == "error":
                    errors.append(f"{page.url}: {msg.text} {msg.location.get('url', '')}")

            page.on("console", console)
            page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
            log_in(page, base, "admin", password)
            alerts = wait_for_faults(page, base, args.timeout)
            time.sleep(max(0.0, args.warmup - (time.monotonic() - started)))
            alarmed = [a["bench_id"] for a in sorted(alerts, key=lambda a: a["bench_id"])]
            bench = BENCH if BENCH in alarmed else alarmed[0]
            summaries = page.request.get(f"{base}/api/benches").json()["benches"]
            publish_announcement(page, base, next(b["municipality"] for b in summaries if b["bench_id"] == bench))
            wait_until_applied(page, base, bench, args.timeout)
            pages = {
                "fleet.png": "/fleet",
                "bench.png": f"/benches/{bench}",
                "participation.png": "/participation",
                "config.png": "/config",
                "alarms.png": "/alarms",
            }
            kiosk = None
            for name, path in pages.items():
                page.goto(base + path)
                page.wait_for_selector(READY[name], state="attached")
                page.wait_for_load_state("networkidle")
                if name == "bench.png":
                    kiosk = page.get_attribute("#kiosk-link", "href")
                page.screenshot(path=str(args.out / name), full_page=True)
                print("saved", args.out / name, *([f"({bench})"] if name == "bench.png" else []))
            if kiosk is None:
                raise SystemExit(f"no kiosk link on {bench}'s page")
            # The citizens' screen, in its own context (no dashboard session): the bench gets the
            # announcement in its desired config over MQTT and the kiosk shows it on its next load.
            screen = browser.new_context(viewport={"width": 800, "height": 760}).new_page()
            screen.on("pageerror", lambda err: errors.append(f"{kiosk}: {err}"))
            screen.goto(kiosk)
            screen.wait_for_selector(".announcement", timeout=60_000)
            screen.screenshot(path=str(args.out / "kiosk.png"))
            print("saved", args.out / "kiosk.png", f"({bench})")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    for error in errors:
        print("browser error:", error, file=sys.stderr)


if __name__ == "__main__":
    main()
