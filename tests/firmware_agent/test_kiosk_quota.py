"""Issue 8, item 5: invalid kiosk requests spend no quota; fresh cookies do not multiply a bench's budget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from firmware_agent.kiosk.app import create_kiosk_app
from firmware_agent.kiosk.limits import POLL_WINDOWS, Quota, Window
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.votes import VoteBox
from tests.firmware_agent.conftest import config_doc, poll_doc
from twins.clock import ManualClock
from twins.twin import validate_config


@pytest.fixture
def two_polls(tmp_path: Path, clock: ManualClock) -> tuple[Flask, SqliteOutbox]:
    config = validate_config(config_doc(polls=[poll_doc("park-2026"), poll_doc("bus-2026")]))
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "kiosk-01")
    return create_kiosk_app(VoteBox("kiosk-01", clock, outbox, lambda: config), clock), outbox


def _vote(app: Flask, poll: str = "park-2026", option: str = "yes") -> int:
    # A fresh test client each time: a new cookie, as a script would use.
    return app.test_client().post("/api/votes", json={"poll_id": poll, "option": option}).status_code


def test_invalid_requests_do_not_lock_citizens_out(two_polls: tuple[Flask, SqliteOutbox]) -> None:
    app, outbox = two_polls
    junk = [_vote(app, "no-such-poll") for _ in range(20)] + [_vote(app, "park-2026", "maybe") for _ in range(20)]
    assert set(junk) == {404, 422}
    assert _vote(app) == 201
    assert outbox.count() == 1


def test_one_poll_flooded_leaves_the_others_usable(two_polls: tuple[Flask, SqliteOutbox]) -> None:
    app, _ = two_polls
    per_minute = POLL_WINDOWS[0].count
    codes = [_vote(app, "park-2026") for _ in range(per_minute + 2)]
    assert codes == [201] * per_minute + [429, 429]
    assert _vote(app, "bus-2026") == 201


def test_fresh_cookies_do_not_multiply_a_day(two_polls: tuple[Flask, SqliteOutbox], clock: ManualClock) -> None:
    app, outbox = two_polls
    accepted = 0
    for _ in range(24 * 60):  # a script voting once a minute with a new cookie, all day (1,440 tries)
        accepted += _vote(app) == 201
        clock.advance(timedelta(minutes=1))
    # Before issue 8 every one of them counted (6 a minute: 8,640 a day); now the poll's daily budget holds.
    assert accepted == outbox.count() == POLL_WINDOWS[-1].count


def test_quota_windows_slide(clock: ManualClock) -> None:
    quota = Quota(clock, bench=(Window(2, timedelta(minutes=1)),), per_poll=(Window(5, timedelta(hours=1)),))
    assert [quota.allow("p") for _ in range(3)] == [True, True, False]
    clock.advance(timedelta(seconds=61))
    assert quota.allow("p") is True
    clock.advance(timedelta(seconds=61))
    assert [quota.allow("p"), quota.allow("p")] == [True, True]  # 5 for p within the hour now
    clock.advance(timedelta(seconds=61))
    assert quota.allow("p") is False  # the bench has room, poll p's hour does not
    assert quota.allow("other") is True  # another poll has its own budget


def test_refusals_of_the_bench_budget_spend_nothing(clock: ManualClock) -> None:
    quota = Quota(clock, bench=(Window(1, timedelta(minutes=1)),), per_poll=(Window(1, timedelta(days=1)),))
    assert quota.allow("a") is True
    assert quota.allow("b") is False  # bench budget full: poll b's budget is not touched
    clock.advance(timedelta(minutes=1, seconds=1))
    assert quota.allow("b") is True


def test_a_higher_bench_rate_scales_every_budget(tmp_path: Path, clock: ManualClock) -> None:
    config = validate_config(config_doc(polls=[poll_doc("park-2026")]))
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "kiosk-01")
    app = create_kiosk_app(VoteBox("kiosk-01", clock, outbox, lambda: config), clock, max_votes=60)
    codes = [_vote(app) for _ in range(41)]
    assert codes == [201] * 40 + [429]  # the poll's minute budget: 4 at 6/min, 40 at 60/min
