"""Headless Chromium: a municipality publishes a closed poll from the participation page; another website
embeds the results widget in an iframe (and the JS snippet), while the rest of the dashboard refuses framing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ops.audit import AuditLog
from fleet.reports.publication import Publications
from tests.dashboards.dash_support import PASSWORD, make_config
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.served import chromium, log_in, served
from tests.dashboards.test_dashboards_publish import CLOSED
from tests.services import free_port
from twins.clock import ManualClock


@pytest.fixture
def publications(db_url: str, clock: ManualClock) -> Iterator[Publications]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield Publications(engine, clock, AuditLog(engine, clock))
    engine.dispose()


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, publications: Publications) -> Iterator[str]:
    fleet.patch_desired("trebinje-01", {"polls": [CLOSED]}, None, "test")
    for option in ("yes", "yes", "yes", "no"):
        fleet.vote("trebinje-01", "treb-bridge", option)
    app = create_app(make_config(public_results=True), fleet, user_store, None, publications)
    with served(app) as url:
        yield url


@pytest.fixture
def town_site(base: str) -> Iterator[str]:
    """A municipality's own website on another origin: one page with the iframe, one with the JS snippet."""
    pages = {
        "/iframe.html": f'<h1>Grad Trebinje</h1><iframe id="w" src="{base}/embed/polls/treb-bridge?lang=en"></iframe>',
        "/snippet.html": f'<h1>Grad Trebinje</h1><script src="{base}/embed/polls/treb-bridge.js"></script>',
        "/framed-dashboard.html": f'<iframe id="w" src="{base}/public/participation"></iframe>',
    }

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = pages.get(environ["PATH_INFO"], "not found").encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]

    server = make_server("localhost", free_port(), app, threaded=True)  # "localhost": another origin than base
    thread = threading.Thread(target=server.serve_forever, name="town-site", daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _frame(page: Any, selector: str) -> Any:
    handle = page.wait_for_selector(selector, state="attached")
    frame = handle.content_frame()
    frame.wait_for_load_state()
    return frame


def test_publish_in_the_browser_then_embed_elsewhere(base: str, town_site: str, artifacts: Path) -> None:
    from playwright.sync_api import expect

    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        # Not published yet: the widget answers 404 inside the town's page.
        page.goto(f"{town_site}/iframe.html")
        assert "A new bridge?" not in _frame(page, "#w").content()

        log_in(page, base, "tre", PASSWORD)
        page.goto(f"{base}/participation")
        page.click("button.publish-toggle[data-poll=treb-bridge]")
        expect(page.locator(".tag.published")).to_be_visible(timeout=10_000)
        expect(page.locator(".embed-code")).to_contain_text("/embed/polls/treb-bridge")

        page.goto(f"{town_site}/iframe.html")
        widget = _frame(page, "#w")
        expect(widget.locator("#question")).to_have_text("A new bridge?")
        expect(widget.locator(".option[data-option=yes] .votes")).to_have_text("3")
        expect(widget.locator(".option[data-option=no] .votes")).to_have_text("1")
        expect(widget.locator("footer")).to_contain_text("CC BY 4.0")
        page.screenshot(path=str(artifacts / "embed-widget.png"))

        page.goto(f"{town_site}/snippet.html")
        snippet = _frame(page, "iframe")
        expect(snippet.locator("#question")).to_have_text("Novi most?")  # no ?lang=: the server's default, bs

        # The rest of the dashboard keeps X-Frame-Options: DENY: Chromium shows no dashboard in the frame.
        page.goto(f"{town_site}/framed-dashboard.html")
        refused = _frame(page, "#w")
        assert refused.url.startswith("chrome-error://"), refused.url
        assert refused.locator("#poll-list").count() == 0
