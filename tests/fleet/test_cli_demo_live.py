"""`benchfleet demo` as a person meets it: believable batteries, faults that raise alarms, a kiosk to vote on,
announcements reaching the kiosk, a simulated-time badge, and a bench added with the CLI accepted live."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests

from tests.services import free_port
from tests.twins.samples import telemetry_doc
from tests.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CSV_HEADER = "bench_id,name,municipality,entity,canton,lat,lon,altitude_m,installed\n"
SOC = "battery.soc_pct"
#: Largest believable change of charge between two consecutive samples (15 min of history apart at most);
#: a live run restarting every bench at one value jumped 50+ points.
MAX_STEP_PCT = 12.0


@dataclass
class Demo:
    """A running demo: its folder, output, dashboard and an API token made with the CLI."""

    folder: Path
    out: Path
    base: str
    env: dict[str, str]
    token: str = ""

    def text(self) -> str:
        """Everything the demo printed so far."""
        return self.out.read_text(encoding="utf-8", errors="replace")

    def api(self, path: str) -> Any:
        """GET an API path with the CLI-made token."""
        resp = requests.get(self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another benchfleet command beside the demo, with the same (default) settings."""
        return subprocess.run(
            [sys.executable, "-m", "fleet.cli", *args], env=self.env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo") / "data"
    out = folder.parent / "demo.log"
    port = free_port()
    # No --data-dir: the demo takes BENCHFLEET_DATA_DIR like every other command.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHFLEET_")}
    env |= {"BENCHFLEET_DATA_DIR": str(folder), "BENCHFLEET_LOG_LEVEL": "WARNING"}
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleet.cli", "demo", "--history", "1d", "--http", f"127.0.0.1:{port}"],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    running = Demo(folder, out, f"http://127.0.0.1:{port}", env)
    try:
        wait_until(lambda: "Kiosk of zepce-01" in running.text(), timeout=180, message="demo started")
        wait_until(lambda: requests.get(running.base + "/healthz", timeout=5).ok, timeout=30, message="dashboard")
        made = running.cli("token", "create", "admin", "--label", "test")
        assert made.returncode == 0, made.stderr
        running.token = made.stdout.strip()
        yield running
    finally:
        # A clean stop is test_cli_demo's concern (with --no-dashboard); the dashboard's server just ends.
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _benches(demo: Demo) -> dict[str, dict[str, Any]]:
    return {b["bench_id"]: b for b in demo.api("/api/benches")["benches"]}


def _soc_series(series_db: Path) -> dict[str, list[float]]:
    """Every bench's battery charge over time, history and live run together."""
    with sqlite3.connect(series_db) as conn:
        rows = conn.execute(
            "SELECT s.tagset, p.value FROM points p JOIN series s ON s.id = p.series_id "
            "WHERE p.field = ? ORDER BY s.id, p.ts",
            (SOC,),
        ).fetchall()
    found: dict[str, list[float]] = {}
    for tagset, value in rows:
        found.setdefault(dict(json.loads(tagset))["bench_id"], []).append(float(value))
    return found


def test_batteries_differ_and_continue_from_the_history(demo: Demo) -> None:
    def live_socs() -> dict[str, float]:
        socs = {b: v[SOC] for b, v in _benches(demo).items() if v.get(SOC) is not None}
        return socs if len(socs) >= 11 else {}  # Trebinje may already be cut off by the scenario

    socs = wait_until(live_socs, timeout=120, interval=1, message="live telemetry from the benches")
    assert len({round(v) for v in socs.values()}) >= 5, socs
    series = _soc_series(demo.folder / "series.db")
    for bench_id in socs:
        values = series[bench_id]
        assert len(values) > 96, f"{bench_id}: a day of history and the live run"
        steps = [abs(b - a) for a, b in itertools.pairwise(values)]
        assert max(steps) < MAX_STEP_PCT, f"{bench_id}: battery jumps {max(steps):.1f} points: {values[-10:]}"


def test_the_demo_scenario_raises_alarms_within_minutes(demo: Demo) -> None:
    def alarms() -> list[dict[str, Any]]:
        return [a for a in demo.api("/api/alerts")["alerts"] if a["state"] != "cleared"]

    raised = wait_until(alarms, timeout=200, interval=2, message="an alarm from the demo's faults")
    assert {a["bench_id"] for a in raised} & {"mostar-01", "trebinje-01", "kostajnica-01", "zepce-01"}
    unhealthy = wait_until(
        lambda: [b for b in _benches(demo).values() if b["health"] != "ok"], timeout=60, message="a health problem"
    )
    assert unhealthy[0]["reasons"]


@pytest.mark.browser
def test_a_kiosk_vote_and_an_announcement_from_the_dashboard(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    kiosk = re.search(r"Kiosk of mostar-01: (http://\S+)", demo.text())
    password = re.search(r"login admin / (\S+)\)", demo.text())
    assert kiosk is not None, demo.text()
    assert password is not None, demo.text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        # The dashboard: the badge says the time is simulated, and the bench page links the kiosk.
        page.goto(demo.base + "/login")
        page.fill("input[name=name]", "admin")
        page.fill("input[name=password]", password.group(1))
        page.click("button[type=submit]")
        page.wait_for_selector("#sim-time")
        assert "Simulated time" in page.inner_text("#sim-time")
        page.goto(demo.base + "/benches/mostar-01")
        assert page.get_attribute("#kiosk-link", "href") == kiosk.group(1)
        # An announcement published from the dashboard's form, to Mostar's benches.
        page.goto(demo.base + "/announcements")
        page.select_option("select[name=municipality]", "Mostar")
        page.fill("input[name='text.bs']", "Sutra čistimo park")
        page.fill("input[name='text.hr']", "Sutra čistimo park")
        page.fill("input[name='text.sr']", "Сутра чистимо парк")
        page.click("#announcement-form button[type=submit]")
        page.wait_for_selector("#announcement-list li")
        # The kiosk: what the bench offers, the announcement once the bench applied it, and a vote.
        kiosk_page = browser.new_page()
        kiosk_page.goto(kiosk.group(1) + "/")
        kiosk_page.wait_for_selector("#offers li[data-offer=usb]")
        assert kiosk_page.get_attribute("#offers li[data-offer=wifi]", "data-state") in ("available", "shed")
        kiosk_page.wait_for_selector("section.poll button[data-option=yes]")
        with kiosk_page.expect_response(lambda r: r.url.endswith("/api/votes")) as answer:
            kiosk_page.click("section.poll button[data-option=yes]")
        vote_id = answer.value.json()["id"]
        kiosk_page.wait_for_selector("p.voted")
        kiosk_page.wait_for_selector(".announcement", timeout=60_000)  # the page re-reads every 10 s
        assert kiosk_page.inner_text(".announcement") == "Sutra čistimo park"
        kiosk_page.click("button[data-lang=sr]")
        assert kiosk_page.inner_text(".announcement") == "Сутра чистимо парк"
        browser.close()

    def counted() -> bool:
        with sqlite3.connect(demo.folder / "fleet.db") as conn:
            return conn.execute("SELECT 1 FROM vote_events WHERE event_id = ?", (vote_id,)).fetchone() is not None

    wait_until(counted, timeout=60, interval=0.5, message="the kiosk's vote counted by the fleet")
    results = demo.api("/api/polls/park-2026/results")
    assert json.dumps(results)  # the participation API answers with the counted votes
    assert results["votes"] >= 1


def test_a_bench_imported_with_the_cli_is_accepted_by_the_running_demo(demo: Demo, tmp_path: Path) -> None:
    csv = tmp_path / "konjic.csv"
    csv.write_text(CSV_HEADER + "konjic-01,Klupa Konjic,Konjic,FBiH,HNK,43.65,17.96,280,2026-12\n", encoding="utf-8")
    imported = demo.cli("benches", "import", str(csv))
    assert imported.returncode == 0, imported.stderr
    broker = re.search(r"embedded broker at mqtt://([\d.]+):(\d+)", demo.text())
    assert broker is not None
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="konjic-01")
    client.connect(broker.group(1), int(broker.group(2)))
    client.loop_start()
    try:
        doc = telemetry_doc("konjic-01", when=datetime.now(UTC).replace(microsecond=0), seq=1, votes={})
        client.publish("benches/konjic-01/telemetry", json.dumps(doc), qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()

    def seen() -> dict[str, Any] | None:
        bench = _benches(demo).get("konjic-01")
        return bench if bench and bench.get(SOC) is not None else None

    bench = wait_until(seen, timeout=60, interval=0.5, message="konjic-01's telemetry accepted")
    assert bench["municipality"] == "Konjic"
    assert "unknown_bench" not in demo.text()
