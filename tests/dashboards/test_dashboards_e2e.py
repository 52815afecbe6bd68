"""End to end in headless Chromium: real Mosquitto, the real fleet service and a real simulated bench agent."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.service_api import EVERYTHING
from tests.dashboards.dash_support import start_live
from tests.dashboards.served import chromium, log_in, served
from tests.fleet.vote_support import carry
from tests.services import MosquittoService, PostgresDatabase
from tests.waiting import wait_until
from twins.clock import SystemClock, to_rfc3339

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "e2e password 1"
AGENT_BENCH = "mostar-01"
TELEMETRY_BENCH = "jablanica-01"


@dataclass
class Stack:
    base: str
    runtime: Any
    broker: MosquittoService
    publisher: mqtt.Client


def _telemetry(
    bench_id: str, seq: int, soc: float, ts: datetime | None = None, solar_w: float = 88.2, load_w: float = 12.4
) -> str:
    return json.dumps(
        {
            "v": 1,
            "bench_id": bench_id,
            "ts": to_rfc3339(ts or datetime.now(UTC)),
            "seq": seq,
            "battery": {"soc_pct": soc, "voltage_v": 13.1, "current_a": -1.2, "temp_c": 12.0 + soc / 10},
            "solar": {"power_w": solar_w, "energy_today_wh": 410.0},
            "load": {"power_w": load_w},
            "ports": [{"id": "usb-1", "kind": "usb", "active": True, "power_w": 7.5, "sessions_today": 14}],
            "wifi": {"clients": 7, "sessions_today": 53},
            "votes": {},
        }
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Mosquitto + fleet runtime (twins on PostgreSQL, SQLite TSDB) + dashboard on a free port + one simulated
    bench agent."""
    from firmware_agent.main import build_options, run_agent
    from fleet.runtime import build_runtime
    from fleet.settings import Settings

    tmp = tmp_path_factory.mktemp("e2e")
    database = PostgresDatabase()
    database.create()
    broker = MosquittoService(tmp / "mosquitto")
    broker.start()
    settings = Settings(
        mqtt=broker.url,
        tsdb=f"sqlite:///{tmp / 'series.db'}",
        db=database.url,
        data_dir=str(tmp / "data"),
        ingest_client_id=f"e2e-{uuid.uuid4().hex[:8]}",
    )
    runtime = build_runtime(settings, SystemClock())
    runtime.start()
    users = UserStore(runtime.engine)
    users.add_user("ada", PASSWORD, "admin", locale="en")
    config = DashboardConfig(
        secret_key="e2e-secret-key-0123456789",
        secure_cookies=False,
        public_results=True,
        login_rate_limit="60 per minute",
    )
    app = create_app(config, runtime.service, users)
    start_live(app, runtime.service)
    stop_agent = threading.Event()
    options = build_options(
        bench_id=AGENT_BENCH, mqtt_url=broker.url, data_dir=tmp / "agent", kiosk_http="off", tick_s=0.2
    )
    agent = threading.Thread(target=run_agent, args=(options, stop_agent), name="bench-agent", daemon=True)
    agent.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-bench-{uuid.uuid4().hex[:6]}")
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    try:
        with served(app) as base:
            yield Stack(base, runtime, broker, publisher)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        stop_agent.set()
        agent.join(timeout=10)
        app.extensions["benchfleet"].live.stop()
        runtime.stop()
        broker.stop()
        database.drop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
    pg = context.new_page()
    log_in(pg, stack.base, "ada", PASSWORD)
    yield pg
    context.close()


def _save(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / name), full_page=True)
    assert (artifacts / name).stat().st_size > 10_000


def _status(bench_id: str) -> str:
    return json.dumps({"v": 1, "bench_id": bench_id, "ts": to_rfc3339(datetime.now(UTC)), "online": True})


def test_fleet_page_shows_the_twelve_benches(page: Any, stack: Stack, artifacts: Path) -> None:
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#live-status[data-state=live]")
    points = page.evaluate("() => document.getElementById('fleet-map').data[0].x.length")
    assert points == 12
    others = [t.bench_id for t in stack.runtime.service.list_twins(EVERYTHING) if t.bench_id != AGENT_BENCH]
    for i, bench in enumerate(others):  # the other benches come alive while the page is open
        soc = [85.0, 64.0, 15.0, 92.0, 48.0, 8.0][i % 6]
        stack.publisher.publish(f"benches/{bench}/status", _status(bench), qos=1, retain=True)
        stack.publisher.publish(
            f"benches/{bench}/telemetry", _telemetry(bench, 1, soc, load_w=5.0 + 9 * (i % 7)), qos=1
        )
    page.wait_for_function(
        """() => { const c = document.getElementById('fleet-map').data[0].marker.color;
                   return new Set(c).size >= 3; }""",
        timeout=5000,
    )
    # A bench's status and telemetry may reach the page as two updates, the second held back by the bridge's
    # per-bench throttle (0.5 s): wait until every bench that came alive shows a battery.
    page.wait_for_function(
        """(n) => [...document.querySelectorAll('#fleet-table tbody tr td:nth-child(5)')]
                   .filter((td) => td.textContent.trim() !== '—').length >= n""",
        arg=len(others),
        timeout=10_000,
    )
    online = page.locator("#fleet-table tbody tr td:nth-child(4)", has_text="yes").count()
    assert online >= len(others)
    assert page.locator("#fleet-table tbody tr").count() == 12
    page.fill("#filter-text", "mostar")
    assert page.locator("#fleet-table tbody tr").count() == 1
    page.fill("#filter-text", "")
    page.select_option("#filter-municipality", "Trebinje")
    assert page.locator("#fleet-table tbody tr").count() == 1
    page.select_option("#filter-municipality", "")
    page.select_option("#filter-health", "critical")
    critical = page.locator("#fleet-table tbody tr").count()
    assert 1 <= critical < 12
    page.select_option("#filter-health", "")
    # The battery column reads the summary's metric key: sorted by it, the lowest charge comes first.
    page.click("#fleet-table th:nth-child(5)")
    cells = page.locator("#fleet-table tbody tr td:nth-child(5)").all_inner_texts()
    socs = [int(t.split("\u202f")[0]) for t in cells if t != "—"]  # the agent's bench may not have reported yet
    assert len(socs) >= len(others)
    assert socs == sorted(socs)
    assert socs[0] == 8
    _save(page, artifacts, "fleet.png")


def _backfill(stack: Stack, bench: str, hours: int = 24) -> int:
    """A day of history, as a bench's outbox would deliver after an outage (older samples only go to the TSDB)."""
    now = datetime.now(UTC)
    count = hours * 6
    for k in range(count, 0, -1):
        ts = now - timedelta(minutes=10 * k)
        hour = ts.hour + ts.minute / 60
        sun = max(0.0, math.sin(math.pi * (hour - 6.5) / 9.5)) if 6.5 < hour < 16 else 0.0
        soc = 55 + 30 * sun + 5 * math.sin(k / 9)
        load = 8 + 20 * (1 if 16 <= hour <= 22 else 0.3) + 3 * math.sin(k)
        payload = _telemetry(bench, 10_000 - k, round(soc, 1), ts=ts, solar_w=round(95 * sun, 1), load_w=load)
        stack.publisher.publish(f"benches/{bench}/telemetry", payload, qos=1)
    return count


def test_bench_page_updates_within_a_second(page: Any, stack: Stack, artifacts: Path) -> None:
    sent_history = _backfill(stack, TELEMETRY_BENCH)
    wait_until(
        lambda: (
            len(
                [
                    s
                    for s in stack.runtime.service.series(
                        TELEMETRY_BENCH,
                        "battery.soc_pct",
                        datetime.now(UTC) - timedelta(hours=25),
                        datetime.now(UTC),
                        timedelta(minutes=10),
                    )
                    if s.value is not None
                ]
            )
            >= sent_history * 0.9
        ),
        timeout=20,
        message="history in the TSDB",
    )
    page.goto(f"{stack.base}/benches/{TELEMETRY_BENCH}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#live-status[data-state=live]")
    before = page.evaluate("() => document.getElementById('chart-battery').data[0].x.length")
    sent = time.monotonic()
    stack.publisher.publish(f"benches/{TELEMETRY_BENCH}/telemetry", _telemetry(TELEMETRY_BENCH, 2, 33.3), qos=1)
    page.wait_for_function("() => document.getElementById('now-soc').textContent.includes('33.3')", timeout=5000)
    latency = time.monotonic() - sent
    assert latency < 1.0, f"telemetry reached the open page after {latency:.2f} s"
    page.wait_for_function(f"() => document.getElementById('chart-battery').data[0].x.length > {before}", timeout=2000)
    assert page.url.endswith(f"/benches/{TELEMETRY_BENCH}")  # no reload, no navigation
    _save(page, artifacts, "bench.png")


def test_bench_page_applies_live_data_without_refetching_the_page(page: Any, stack: Stack) -> None:
    bench = "maglaj-01"
    page.goto(f"{stack.base}/benches/{bench}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#live-status[data-state=live]")
    fetched: list[str] = []
    page.on("request", lambda req: fetched.append(req.url.removeprefix(stack.base)))
    stack.publisher.publish(f"benches/{bench}/telemetry", _telemetry(bench, 7, 44.4), qos=1)
    page.wait_for_function("() => document.getElementById('now-soc').textContent.includes('44.4')", timeout=5000)
    stack.publisher.publish(f"benches/{bench}/telemetry", _telemetry(bench, 8, 45.5), qos=1)
    page.wait_for_function("() => document.getElementById('now-soc').textContent.includes('45.5')", timeout=5000)
    assert fetched == []  # telemetry: the event's data alone, no request at all

    stack.runtime.service.patch_desired(bench, {"wifi": {"max_clients": 17}}, None, "e2e")
    page.wait_for_function(
        """() => [...document.querySelectorAll('#config-compare tr[data-path="wifi.max_clients"] td')]
                 .map((td) => td.textContent).join('|').startsWith('Wi-Fi users at once|17')""",
        timeout=5000,
    )
    assert fetched == [f"/benches/{bench}/twin.json"]  # a new desired version: the small JSON, not the page
    assert page.text_content("#config-state").startswith("pending (v")


def test_config_push_goes_pending_then_applied(page: Any, stack: Stack, artifacts: Path) -> None:
    wait_until(
        lambda: stack.runtime.service.get_twin(AGENT_BENCH).reported is not None,
        timeout=20,
        message="the simulated bench reported",
    )
    page.goto(f"{stack.base}/config?bench={AGENT_BENCH}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#live-status[data-state=live]")
    page.fill("#f-wifi\\.max_clients", "999")
    page.click("#push")
    page.wait_for_selector("#f-wifi\\.max_clients.invalid")
    assert "250" in page.text_content('.field-error[data-for="wifi.max_clients"]')
    page.fill("#f-wifi\\.max_clients", "25")
    states: list[str] = []
    page.expose_function("recordState", lambda s: states.append(s))
    page.evaluate(
        """() => new MutationObserver(() => {
             const cell = document.querySelector('#push-results tbody td.state');
             if (cell) window.recordState(cell.textContent);
           }).observe(document.getElementById('push-results'), {childList: true, subtree: true, characterData: true})"""
    )
    page.click("#push")
    page.wait_for_function(
        """() => { const c = document.querySelector('#push-results tbody td.state');
                   return c && c.textContent === 'applied'; }""",
        timeout=15000,
    )
    assert states[0] == "pending"
    assert states[-1] == "applied"
    twin = stack.runtime.service.get_twin(AGENT_BENCH)
    assert twin.desired.wifi.max_clients == 25
    assert twin.config_state() == "applied"
    _save(page, artifacts, "config.png")


def test_participation_page(page: Any, stack: Stack, artifacts: Path) -> None:
    poll = {
        "id": "park-2026",
        "question": {
            "bs": "Da li želite novi park?",
            "hr": "Želite li novi park?",
            "sr": "Da li želite novi park?",
            "en": "Do you want a new park?",
        },
        "options": [
            {"id": "yes", "labels": {"bs": "Da", "hr": "Da", "sr": "Da", "en": "Yes"}},
            {"id": "no", "labels": {"bs": "Ne", "hr": "Ne", "sr": "Ne", "en": "No"}},
        ],
        "opens": "2026-01-01T00:00:00Z",
        "closes": "2030-01-01T00:00:00Z",
    }
    service = stack.runtime.service
    benches = [t.bench_id for t in service.list_twins(EVERYTHING)]
    for bench in benches:
        service.patch_desired(bench, {"polls": [poll]}, None, "e2e")
    for bench in benches:  # benches without an agent report the poll in force as the agent does
        carry(stack.runtime, stack.publisher, bench, poll)
    votes = {"yes": 0, "no": 0}
    for i, bench in enumerate(benches):
        for j in range(1 + i % 4):
            option = "yes" if (i + j) % 3 else "no"
            votes[option] += 1
            event = {
                "v": 1,
                "bench_id": bench,
                "ts": to_rfc3339(datetime.now(UTC)),
                "id": str(uuid.uuid4()),
                "type": "vote",
                "data": {"poll_id": "park-2026", "option": option},
            }
            stack.publisher.publish(f"benches/{bench}/events", json.dumps(event), qos=1)
    wait_until(
        lambda: sum(service.poll_results("park-2026", EVERYTHING).total.values()) == sum(votes.values()),
        timeout=10,
        message="votes counted",
    )
    page.goto(f"{stack.base}/participation")
    page.wait_for_selector("body[data-ready=true]")
    assert page.text_content("#poll-question") == "Do you want a new park?"
    assert page.text_content("#poll-votes") == str(sum(votes.values()))
    bars = page.evaluate("() => document.getElementById('chart-options').data[0].y")
    assert bars == [votes["yes"], votes["no"]]
    _save(page, artifacts, "participation.png")


def test_poll_editor_pushes_a_poll_to_a_municipality(page: Any, stack: Stack, artifacts: Path) -> None:
    page.goto(f"{stack.base}/participation/editor")
    page.wait_for_selector("body[data-ready=true]")
    page.check("input[name=municipality][value=Trebinje]")
    page.fill("input[name=id]", "bench-colour")
    for lang, text in {"bs": "Koja boja?", "hr": "Koja boja?", "sr": "Koja boja?", "en": "Which colour?"}.items():
        page.fill(f"input[name='question.{lang}']", text)
    for i, (option, label) in enumerate([("green", "Zelena"), ("blue", "Plava")]):
        page.fill(f"input[name='options.{i}.id']", option)
        for lang in ("bs", "hr", "sr", "en"):
            page.fill(f"input[name='options.{i}.labels.{lang}']", label)
    page.fill("input[name=opens]", "2026-01-01T00:00")
    page.fill("input[name=closes]", "2025-01-01T00:00")  # closes before it opens: refused, shown on the form
    page.click("#poll-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#poll-form').textContent.includes('must be after the opening time')"
    )
    page.fill("input[name=closes]", "2030-01-01T00:00")
    page.click("#poll-form button[type=submit]")
    page.wait_for_selector("#poll-push-results li")
    assert page.text_content("#poll-push-results").startswith("trebinje-01: v")
    twin = stack.runtime.service.get_twin("trebinje-01")
    assert twin.desired.poll("bench-colour") is not None
    assert stack.runtime.service.get_twin("mostar-01").desired.poll("bench-colour") is None
    _save(page, artifacts, "poll-editor.png")
