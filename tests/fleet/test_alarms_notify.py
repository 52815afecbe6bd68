"""Alarm notifications reach a real SMTP server (aiosmtpd) and a real HTTP receiver on loopback: routed per
municipality and severity, once per transition, rate-limited, escalated when nobody acknowledges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.mail import SmtpSettings
from fleet.ops.alarms import AlarmFilter
from fleet.ops.notify import Notifier, RateLimit
from tests.fleet.alarm_kit import HookReceiver, SmtpReceiver, World, make_world, receivers


@pytest.fixture
def services() -> Iterator[tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]]:
    yield from receivers()


@pytest.fixture
def world(
    db_url: str, tmp_path: Path, services: tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]
) -> Iterator[World]:
    w = make_world(db_url, tmp_path, smtp=services[1], escalate_after=timedelta(minutes=30))
    yield w
    w.tsdb.close()
    w.engine.dispose()


def _low(w: World, bench_id: str, soc: float = 15.0) -> None:
    w.overrides[bench_id] = {"battery": {"soc_pct": soc}}


def test_email_and_webhook_reach_only_their_municipality(
    world: World, services: tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]
) -> None:
    smtp, _, hooks, base = services
    world.recipients.add("Mostar", "warning", "email", "crew@mostar.example")
    world.recipients.add("Tuzla", "warning", "email", "crew@tuzla.example")
    world.recipients.add("Tuzla", "warning", "webhook", f"{base}/tuzla")
    world.recipients.add("*", "critical", "email", "duty@fleet.example")
    _low(world, "tuzla-01")
    _low(world, "mostar-02", soc=5.0)
    for _ in range(5):
        world.tick(1, runs=2)

    mostar = smtp.to("crew@mostar.example")
    assert [m["Subject"] for m in mostar] == ["[BenchFleet] CRITICAL raised: battery_critical on bench mostar-02"]
    tuzla = smtp.to("crew@tuzla.example")
    assert [m["Subject"] for m in tuzla] == ["[BenchFleet] MINOR raised: battery_low on bench tuzla-01"]
    assert "battery at 15.0 % (below 20 %)" in tuzla[0].get_payload()
    # Fleet-wide duty officer: every municipality, critical only.
    assert [m["Subject"] for m in smtp.to("duty@fleet.example")] == [mostar[0]["Subject"]]
    (hook,) = hooks.at("/tuzla")
    assert hook["event"] == "alarm.raised"
    assert hook["alarm"]["bench_id"] == "tuzla-01"
    assert hook["alarm"]["state"] == "active"


def test_escalation_once_when_nobody_acknowledges(
    world: World, services: tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]
) -> None:
    _, _, hooks, base = services
    world.recipients.add("Mostar", "warning", "webhook", f"{base}/crew")
    world.recipients.add("Mostar", "minor", "webhook", f"{base}/boss", escalation=True)
    _low(world, "mostar-01")
    _low(world, "mostar-02")
    world.tick(1)
    world.tick(2)
    (a1,) = world.store.search(AlarmFilter(bench_id="mostar-01"))
    world.store.acknowledge(a1.id, "ana", "on my way", world.clock.now())
    for _ in range(8):
        world.tick(5, runs=2)

    escalated = hooks.at("/boss")
    assert [(b["event"], b["alarm"]["bench_id"]) for b in escalated] == [("alarm.escalated", "mostar-02")]
    assert [b["event"] for b in hooks.at("/crew")] == ["alarm.raised", "alarm.raised"]
    (a2,) = world.store.search(AlarmFilter(bench_id="mostar-02"))
    assert a2.escalated_at is not None
    assert [t.action for t in world.store.history(a2.id)] == ["raised", "escalated"]


def test_rate_limit_defers_and_nothing_is_lost(
    world: World, services: tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]
) -> None:
    _, _, hooks, base = services
    world.notifier.limit = RateLimit(count=2, window=timedelta(minutes=10))
    world.recipients.add("Mostar", "warning", "webhook", f"{base}/crew")
    _low(world, "mostar-01")
    world.tick(1)
    world.tick(2, runs=2)
    assert len(hooks.at("/crew")) == 1
    world.overrides["mostar-01"]["battery"]["temp_c"] = 50.0  # a second alarm on the same bench
    _low(world, "mostar-02", soc=5.0)
    world.tick(1)
    world.tick(2, runs=2)
    assert len(hooks.at("/crew")) == 2
    assert sorted(n["status"] for n in world.notifier.outbox()) == ["pending", "sent", "sent"]
    world.tick(10)
    assert len(hooks.at("/crew")) == 3
    rules = sorted(b["alarm"]["rule"] for b in hooks.at("/crew"))
    assert rules == ["battery_critical", "battery_low", "battery_temperature"]


def test_smtp_down_keeps_the_mail_and_sends_it_later(
    world: World, services: tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]
) -> None:
    smtp, settings, _, _ = services
    world.recipients.add("Mostar", "warning", "email", "crew@mostar.example")
    down = Notifier(world.engine, SmtpSettings(host="127.0.0.1", port=1, timeout_s=2))
    world.job.notifier = down  # the mail server is unreachable for a while
    _low(world, "mostar-01")
    world.tick(1)
    world.tick(2)
    (row,) = world.notifier.outbox()
    assert row["status"] == "pending"
    assert "SMTP 127.0.0.1:1" in row["error"]
    assert smtp.to("crew@mostar.example") == []
    world.job.notifier = Notifier(world.engine, settings)
    world.tick(1)
    assert len(smtp.to("crew@mostar.example")) == 1
    assert [n["status"] for n in world.notifier.outbox()] == ["sent"]
