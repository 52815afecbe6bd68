"""The kiosk page in a real headless Chromium: four languages, a vote by touch, a new session."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_agent.kiosk.app import KioskServer, create_kiosk_app
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.votes import VoteBox
from tests.firmware_agent.conftest import config_doc, poll_doc
from twins.twin import validate_config

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.mark.browser
def test_touch_vote_in_english_then_next_person(tmp_path: Path, clock) -> None:
    from playwright.sync_api import sync_playwright

    config = validate_config(config_doc(polls=[poll_doc()]))
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "kiosk-01")
    server = KioskServer(create_kiosk_app(VoteBox("kiosk-01", clock, outbox, lambda: config), clock), "127.0.0.1", 0)
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(server.url + "/")
            page.wait_for_selector("section.poll h2")
            assert page.inner_text("section.poll h2") == "Novi park?"
            page.click("button[data-lang=sr]")
            assert page.inner_text("section.poll h2") == "Нови парк?"
            page.click("button[data-lang=en]")
            assert page.inner_text("section.poll h2") == "A new park?"
            page.click("button[data-option=yes]")
            page.wait_for_selector("p.voted")
            assert page.inner_text("#message") == "Thank you for voting!"
            assert page.query_selector("button[data-option=no]") is None  # one vote per session
            page.click("#done")
            page.wait_for_selector("button[data-option=no]")
            assert page.inner_text("section.poll h2") == "Novi park?"  # back to the default language
            page.click("button[data-option=no]")
            page.wait_for_selector("p.voted")
            browser.close()
    finally:
        server.stop()
    assert outbox.vote_counts() == {"park-2026": {"no": 1, "yes": 1}}
