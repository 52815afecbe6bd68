"""The rollouts page in headless Chromium on a real runtime (PostgreSQL, Mosquitto): per-bench states, and the
pause and rollback buttons acting through the API, recorded in the audit log under the clicking user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.ops.audit import AuditQuery
from fleet.service_api import EVERYTHING
from tests.dashboards.served import chromium, log_in, served
from tests.services import MosquittoService, PostgresDatabase
from tests.waiting import wait_until
from twins.clock import SystemClock

PASSWORD = "rollout password 1"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    """A started runtime (its rollout job removed: the test steps it), the app and a token per user."""
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
        ingest_client_id=f"rollouts-{uuid.uuid4().hex[:8]}",
    )
    runtime = build_runtime(settings, SystemClock())
    runtime.start()
    runtime.scheduler.remove_job("rollouts")
    users = UserStore(runtime.engine)
    tokens = {}
    for name, role, municipality in (("ada", "admin", None), ("mo", "municipality", "Mostar")):
        users.add_user(name, PASSWORD, role, municipality=municipality, locale="en")
        tokens[name] = users.create_token(name)
    app = create_app(
        DashboardConfig(secret_key="rollout-secret-key-0123456789", secure_cookies=False), runtime.service, users
    )
    wait_until(runtime.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    try:
        yield runtime, app, tokens
    finally:
        app.extensions["benchfleet"].live.stop()
        runtime.stop()
        broker.stop()
        database.drop()


def test_rollouts_page_pause_and_rollback_in_chromium(stack: tuple[Any, Any, dict[str, str]], artifacts: Path) -> None:
    runtime, app, tokens = stack
    body = {"patch": {"telemetry_interval_s": 120}, "targets": {"municipality": "Mostar"}}
    made = app.test_client().post("/api/rollouts", json=body, headers={"Authorization": f"Bearer {tokens['ada']}"})
    assert made.status_code == 202
    rid = made.get_json()["id"]
    runtime.rollouts.advance(rid)  # the canary goes out
    with served(app) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB").new_page()
        log_in(page, base, "ada", PASSWORD)
        page.goto(f"{base}/rollouts?id={rid}")
        assert page.get_attribute("#rollout-detail", "data-status") == "running"
        assert page.get_attribute("#rollout-benches tr[data-bench='mostar-01']", "data-state") == "pending"
        page.click("#rollout-detail button[data-action=pause]")
        page.wait_for_selector("#rollout-detail[data-status=paused]")
        page.screenshot(path=str(artifacts / "rollouts-page.png"), full_page=True)
        # Pausing twice is refused, and the page says why instead of failing silently.
        page.click("#rollout-detail button[data-action=pause]")
        page.wait_for_selector("#rollout-error:not([hidden])")
        assert "cannot pause a rollout that is paused" in page.inner_text("#rollout-error")
        page.click("#rollout-detail button[data-action=rollback]")
        page.wait_for_selector("#rollout-detail[data-status=rolled_back]")
        assert page.get_attribute("#rollout-benches tr[data-bench='mostar-01']", "data-state") == "rolled_back"
        # A municipality user sees the page without the buttons.
        other = browser.new_context(locale="en-GB").new_page()
        log_in(other, base, "mo", PASSWORD)
        other.goto(f"{base}/rollouts?id={rid}")
        assert other.locator("#rollout-detail").count() == 1
        assert other.locator("#rollout-detail button[data-action]").count() == 0
    actions = [(e.actor, e.action) for e in runtime.service.audit_entries(AuditQuery(), EVERYTHING)]
    assert ("ada", "rollout.pause") in actions
    assert ("ada", "rollout.rollback") in actions
    twin = runtime.twins.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired.telemetry_interval_s != 120
