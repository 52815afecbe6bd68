"""Commands and the audit log over HTTP and in headless Chromium, on the real fleet service (PostgreSQL, Mosquitto)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from tests.dashboards.served import chromium, log_in, served
from tests.firmware_agent.conftest import Harness
from tests.services import MosquittoService, PostgresDatabase
from tests.waiting import wait_until
from twins.clock import ManualClock, SystemClock

PASSWORD = "audit password 1"
#: name → (role, municipality)
ROLES = {
    "ada": ("admin", None),
    "max": ("maintenance", None),
    "mo": ("municipality", "Mostar"),
    "tre": ("municipality", "Trebinje"),
}


@dataclass
class Stack:
    runtime: Any
    app: Any
    broker: MosquittoService
    tokens: dict[str, str]

    def api(self, user: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return self.app.test_client().open(path, method=method, headers=headers, **kw)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from fleet.runtime import build_runtime
    from fleet.settings import Settings

    tmp = tmp_path_factory.mktemp("audit")
    database = PostgresDatabase()
    database.create()
    broker = MosquittoService(tmp / "mosquitto")
    broker.start()
    settings = Settings(
        mqtt=broker.url,
        tsdb=f"sqlite:///{tmp / 'series.db'}",
        db=database.url,
        data_dir=str(tmp / "data"),
        ingest_client_id=f"audit-{uuid.uuid4().hex[:8]}",
    )
    runtime = build_runtime(settings, SystemClock())
    runtime.start()
    users = UserStore(runtime.engine)
    tokens = {}
    for name, (role, municipality) in ROLES.items():
        users.add_user(name, PASSWORD, role, municipality=municipality, locale="en")
        tokens[name] = users.create_token(name)
    app = create_app(
        DashboardConfig(secret_key="audit-secret-key-0123456789", secure_cookies=False), runtime.service, users
    )
    wait_until(runtime.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    try:
        yield Stack(runtime, app, broker, tokens)
    finally:
        app.extensions["benchfleet"].live.stop()
        runtime.stop()
        broker.stop()
        database.drop()


def _entries(stack: Stack, user: str, query: str = "") -> list[dict[str, Any]]:
    response = stack.api(user, "GET", f"/api/audit{query}")
    assert response.status_code == 200, response.get_json()
    entries: list[dict[str, Any]] = response.get_json()["entries"]
    return entries


def test_a_patch_and_a_command_appear_with_actor_and_before_after(stack: Stack) -> None:
    patched = stack.api("max", "PATCH", "/api/benches/maglaj-01/desired", json={"telemetry_interval_s": 45})
    assert patched.status_code == 200, patched.get_json()
    sent = stack.api("max", "POST", "/api/benches/maglaj-01/commands", json={"name": "self_test", "args": {}})
    assert sent.status_code == 202
    assert sent.get_json()["status"] == "sent"
    command = stack.api("max", "GET", f"/api/commands/{sent.get_json()['id']}").get_json()
    assert set(command) >= {"id", "bench_id", "name", "status", "result", "sent_at", "finished_at"}
    assert (command["bench_id"], command["name"], command["status"]) == ("maglaj-01", "self_test", "sent")

    newest, patch = _entries(stack, "ada", "?bench_id=maglaj-01")[:2]
    assert (newest["actor"], newest["action"], newest["target"]) == ("max", "command.send", f"command:{command['id']}")
    assert newest["after"] == {"name": "self_test", "args": {}, "status": "sent"}
    assert (patch["actor"], patch["action"], patch["target"]) == ("max", "desired.patch", "bench:maglaj-01")
    assert patch["before"] == {"telemetry_interval_s": 60, "version": 0}
    assert patch["after"] == {"telemetry_interval_s": 45, "version": 1}
    assert [e["action"] for e in _entries(stack, "ada", "?actor=max&bench_id=maglaj-01")] == [
        "command.send",
        "desired.patch",
    ]


def test_commands_and_entries_are_scoped_by_municipality(stack: Stack) -> None:
    mostar = stack.api("ada", "POST", "/api/benches/mostar-01/commands", json={"name": "ping"})
    assert mostar.status_code == 202
    trebinje = stack.api("max", "POST", "/api/benches/trebinje-01/commands", json={"name": "ping"})
    assert trebinje.status_code == 202
    # A municipality user may look but not command their own benches, and does not learn of others'.
    assert stack.api("mo", "POST", "/api/benches/mostar-01/commands", json={"name": "ping"}).status_code == 403
    refused = stack.api("mo", "POST", "/api/benches/trebinje-01/commands", json={"name": "ping"})
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "unknown_bench"
    assert stack.api("mo", "POST", "/api/benches/nowhere-01/commands", json={"name": "ping"}).status_code == 404
    assert stack.api("mo", "GET", f"/api/commands/{mostar.get_json()['id']}").status_code == 200
    assert stack.api("tre", "GET", f"/api/commands/{mostar.get_json()['id']}").status_code == 404
    assert stack.api(None, "GET", "/api/audit").status_code == 401

    seen_by_mo = _entries(stack, "mo")
    assert seen_by_mo, "Mostar's entries are visible to Mostar"
    assert {e["bench_id"] for e in seen_by_mo} == {"mostar-01"}
    assert any(e["target"] == f"command:{mostar.get_json()['id']}" for e in seen_by_mo)
    assert _entries(stack, "mo", "?bench_id=trebinje-01") == []
    assert any(e["target"] == f"command:{trebinje.get_json()['id']}" for e in _entries(stack, "tre"))
    assert all(e["bench_id"] != "mostar-01" for e in _entries(stack, "tre"))
    assert any(e["target"] == f"command:{trebinje.get_json()['id']}" for e in _entries(stack, "ada"))


@pytest.mark.parametrize(
    ("query", "code", "named"),
    [
        ("?since=yesterday", "bad_time", "since="),
        ("?limit=0", "bad_limit", "limit="),
        ("?limit=x", "bad_limit", "limit="),
    ],
)
def test_bad_filters_are_named(stack: Stack, query: str, code: str, named: str) -> None:
    response = stack.api("ada", "GET", f"/api/audit{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert named in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "format"}, "unknown command"),
        ({"args": {}}, "name"),
        ({"name": "ping", "args": []}, "args"),
        ([], "JSON object"),
    ],
)
def test_bad_commands_are_refused_naming_the_problem(stack: Stack, body: Any, named: str) -> None:
    response = stack.api("max", "POST", "/api/benches/jablanica-01/commands", json=body)
    assert response.status_code == 400
    assert named in response.get_json()["error"]["message"]


def test_csv_export_matches_the_json(stack: Stack) -> None:
    stack.api("ada", "PATCH", "/api/benches/mostar-01/desired", json={"telemetry_interval_s": 90})
    stack.api("ada", "POST", "/api/benches/mostar-01/commands", json={"name": "reboot"})
    entries = _entries(stack, "mo", "?since=-1h")
    response = stack.api("mo", "GET", "/api/audit.csv?since=-1h")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(entries) >= 2
    for row, entry in zip(rows, entries, strict=True):
        assert (row["at"], row["actor"], row["action"], row["target"]) == (
            entry["at"],
            entry["actor"],
            entry["action"],
            entry["target"],
        )
        assert row["bench_id"] == (entry["bench_id"] or "")


@pytest.mark.browser
def test_ping_from_the_bench_page_and_the_audit_page(stack: Stack, tmp_path: Path, artifacts: Path) -> None:
    bench = "prijedor-01"
    (tmp_path / "agent").mkdir()
    agent = Harness(
        stack.broker.url, bench, tmp_path / "agent", ManualClock(stack.runtime.clock.now() - timedelta(minutes=1))
    )
    try:
        agent.start()
        with served(stack.app) as base, chromium() as browser:
            page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB").new_page()
            log_in(page, base, "ada", PASSWORD)
            page.goto(f"{base}/benches/{bench}")
            page.click("#bench-commands button[data-command=ping]")
            row = "#command-list tr[data-status=succeeded]"
            agent.pump_until(lambda: page.locator(row).count() == 1, timeout=20, message="ping succeeded on the page")
            assert "1.0.0" in page.locator(row).inner_text()
            page.screenshot(path=str(artifacts / "bench-commands.png"), full_page=True)

            page.goto(f"{base}/audit")
            page.fill("input[name=bench_id]", bench)
            page.fill("input[name=since]", "-1h")
            page.click("#audit-filters button[type=submit]")
            page.wait_for_url("**/audit?*bench_id=prijedor-01*")
            actions = page.locator("#audit-table tbody td.action").all_inner_texts()
            assert actions == ["command.result", "command.send"]
            assert page.locator("#audit-table tbody td.actor").all_inner_texts() == ["bench:prijedor-01", "ada"]
            href = page.get_attribute("#audit-csv", "href")
            assert href is not None
            assert "bench_id=prijedor-01" in href
            page.screenshot(path=str(artifacts / "audit-page.png"), full_page=True)
            csv_text = page.evaluate("url => fetch(url).then(r => r.text())", href)
            assert [r["action"] for r in csv.DictReader(io.StringIO(csv_text))] == actions
    finally:
        agent.close()


@pytest.mark.parametrize(("user", "shown"), [("ada", True), ("max", True), ("mo", False)])
def test_command_buttons_only_for_roles_that_may_send(stack: Stack, user: str, shown: bool) -> None:
    page = stack.api(user, "GET", "/benches/mostar-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ('id="bench-commands"' in html) is shown
    assert ('data-command="reboot"' in html) is shown


def test_the_audit_page_names_a_bad_filter(stack: Stack) -> None:
    page = stack.api("ada", "GET", "/audit?since=last+tuesday")
    assert page.status_code == 200
    assert "since=&#39;last tuesday&#39;" in page.get_data(as_text=True)
