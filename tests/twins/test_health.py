"""Derived health: each rule with a manual clock and its thresholds; the worst reason sets the status."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.twins.samples import T0, battery, reported_doc, status_doc, telemetry_doc
from twins.clock import ManualClock, SystemClock, to_rfc3339
from twins.health import HealthThresholds, evaluate
from twins.messages import Reported, Status, Telemetry
from twins.twin import (
    Attributes,
    Twin,
    apply_activity,
    apply_reported,
    apply_status,
    apply_telemetry,
    count_vote,
    new_twin,
    patch_desired,
)

ATTRS = Attributes(name="Mostar", municipality="Mostar", lat=43.34, lon=17.81)
MIN = timedelta(minutes=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def seen(clock: ManualClock, **over: Any) -> Twin:
    """A twin that just received a healthy sample at the clock's time."""
    over.setdefault("votes", {})
    doc = telemetry_doc(when=clock.now(), **over)
    twin, _ = apply_telemetry(new_twin("mostar-01", ATTRS), Telemetry.model_validate_json(json.dumps(doc)), clock.now())
    return twin


def codes(twin: Twin, clock: ManualClock, th: HealthThresholds | None = None) -> dict[str, str]:
    return {r.code: r.severity for r in twin.health(clock.now(), th).reasons}


def test_healthy_bench_is_ok(clock: ManualClock) -> None:
    health = seen(clock).health(clock.now())
    assert health.status == "ok"
    assert health.reasons == ()
    assert health.as_doc() == {"status": "ok", "reasons": []}


def test_never_seen_is_a_warning(clock: ManualClock) -> None:
    assert codes(new_twin("mostar-01", ATTRS), clock) == {"never_seen": "warning"}


def test_stale_after_three_intervals_then_critical_after_an_hour(clock: ManualClock) -> None:
    twin = seen(clock)  # default config: a sample every 60 s
    clock.advance(3 * MIN)
    assert codes(twin, clock) == {}
    clock.advance(timedelta(seconds=1))
    assert codes(twin, clock) == {"stale": "warning"}
    assert "expected every 60 s" in twin.health(clock.now()).reasons[0].message
    clock.set(T0 + 60 * MIN)
    assert codes(twin, clock) == {"stale": "warning"}
    clock.advance(timedelta(seconds=1))
    assert codes(twin, clock) == {"stale": "critical"}
    assert twin.health(clock.now()).status == "critical"


def test_stale_follows_the_desired_interval_and_thresholds(clock: ManualClock) -> None:
    twin = patch_desired(seen(clock), {"telemetry_interval_s": 600}, clock.now())
    clock.advance(25 * MIN)
    assert codes(twin, clock) == {}
    clock.advance(6 * MIN)
    assert codes(twin, clock) == {"stale": "warning"}
    assert codes(twin, clock, HealthThresholds(stale_critical=timedelta(minutes=30))) == {"stale": "critical"}


@pytest.mark.parametrize(
    ("soc", "expected"),
    [(80.0, None), (20.0, None), (19.9, "warning"), (10.0, "warning"), (9.9, "critical"), (0.0, "critical")],
)
def test_battery_low(clock: ManualClock, soc: float, expected: str | None) -> None:
    found = codes(seen(clock, battery=battery(soc_pct=soc)), clock)
    assert found.get("battery_low") == expected
    if expected:
        assert (
            f"battery at {soc:.0f} %"
            in seen(clock, battery=battery(soc_pct=soc)).health(clock.now()).reasons[0].message
        )


@pytest.mark.parametrize(
    ("temp", "expected"),
    [
        (21.5, None),
        (44.9, None),
        (45.0, "warning"),
        (54.9, "warning"),
        (55.0, "critical"),
        (-9.9, None),
        (-10.0, "warning"),
        (-30.0, "warning"),
    ],
)
def test_battery_temperature(clock: ManualClock, temp: float, expected: str | None) -> None:
    assert codes(seen(clock, battery=battery(temp_c=temp)), clock).get("battery_temperature") == expected


def test_battery_thresholds_are_configurable(clock: ManualClock) -> None:
    twin = seen(clock, battery=battery(soc_pct=30, temp_c=40))
    th = HealthThresholds(battery_low_pct=35, battery_critical_pct=31, battery_hot_c=39)
    assert codes(twin, clock, th) == {"battery_low": "critical", "battery_temperature": "warning"}


def test_offline_from_status_is_critical(clock: ManualClock) -> None:
    twin = seen(clock)
    doc = status_doc(False, when=clock.now(), reason="connection lost")
    twin, _ = apply_status(twin, Status.model_validate_json(json.dumps(doc)), clock.now())
    health = twin.health(clock.now())
    assert health.status == "critical"
    assert [(r.code, r.message) for r in health.reasons] == [("offline", "offline: connection lost")]


def test_vote_mismatch_only_after_the_grace_period(clock: ManualClock) -> None:
    twin = seen(clock, votes={"park-2026": {"yes": 3}})
    assert twin.votes_mismatch_since == T0
    clock.advance(9 * MIN)
    twin = apply_activity(twin, clock.now())  # the bench keeps talking: only the mismatch is at stake
    assert codes(twin, clock) == {}
    clock.advance(MIN)
    twin = apply_activity(twin, clock.now())
    assert codes(twin, clock) == {"vote_tally_mismatch": "warning"}
    assert codes(twin, clock, HealthThresholds(vote_mismatch_grace=timedelta(minutes=11))) == {}
    # The missing events arrive: the mismatch clears.
    for _ in range(3):
        twin = count_vote(twin, "park-2026", "yes", clock.now())
    assert twin.votes_mismatch_since is None
    assert codes(twin, clock) == {}


def test_votes_held_for_review_are_a_warning_until_reviewed(clock: ManualClock) -> None:
    twin = seen(clock).model_copy(update={"votes_suspect": 4880})
    assert codes(twin, clock) == {"votes_suspect": "warning"}
    assert "4880 votes held" in twin.health(clock.now()).reasons[0].message
    assert codes(twin.model_copy(update={"votes_suspect": 0}), clock) == {}


def test_config_rejected_for_the_current_desired_version(clock: ManualClock) -> None:
    twin = patch_desired(seen(clock), {"telemetry_interval_s": 30}, clock.now())
    rep = reported_doc(when=clock.now(), config={"version": 1, "status": "rejected", "error": "no such port"})
    twin, _ = apply_reported(twin, Reported.model_validate_json(json.dumps(rep)), clock.now())
    assert codes(twin, clock) == {"config_rejected": "warning"}
    assert "no such port" in twin.health(clock.now()).reasons[0].message
    twin = patch_desired(twin, {"telemetry_interval_s": 40}, clock.now())
    assert codes(twin, clock) == {}  # the rejection was of an older version


def test_worst_reason_wins_and_reasons_are_listed_in_rule_order(clock: ManualClock) -> None:
    twin = seen(clock, battery=battery(soc_pct=15, temp_c=56))
    clock.advance(5 * MIN)
    health = twin.health(clock.now())
    assert [r.code for r in health.reasons] == ["stale", "battery_low", "battery_temperature"]
    assert health.status == "critical"
    assert health.as_doc()["status"] == "critical"
    assert evaluate(twin, clock.now()) == health


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(T0)
    assert clock.advance(MIN) == T0 + MIN
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance(-MIN)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(T0)
    with pytest.raises(ValueError, match="aware"):
        ManualClock(T0.replace(tzinfo=None))
    assert SystemClock().now().tzinfo is not None
    assert to_rfc3339(T0 + timedelta(milliseconds=1500)) == "2026-11-26T10:00:01.500Z"
