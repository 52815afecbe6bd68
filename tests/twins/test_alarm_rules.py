"""The alarm rules table: each rule fires on its condition and is silent otherwise."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.twins.samples import T0, battery, reported_doc, status_doc, telemetry_doc
from twins.alarm_rules import RULES, RULES_BY_CODE, SEVERITIES, AlarmFacts, AlarmThresholds, DayYield, evaluate
from twins.messages import Reported, Status, Telemetry
from twins.twin import Attributes, Twin, apply_reported, apply_status, apply_telemetry, new_twin

MIN = timedelta(minutes=1)


def _twin(**telemetry: object) -> Twin:
    twin = new_twin("mostar-01", Attributes(name="Mostar 1", municipality="Mostar", lat=43.34, lon=17.81))
    sample = Telemetry.model_validate_json(json.dumps(telemetry_doc(**telemetry)))
    return apply_telemetry(twin, sample, T0)[0]


def _codes(facts: AlarmFacts, th: AlarmThresholds | None = None) -> set[str]:
    return set(evaluate(facts, th))


def test_every_rule_has_a_known_severity_and_a_unique_code() -> None:
    assert len(RULES_BY_CODE) == len(RULES)
    assert {r.severity for r in RULES} <= set(SEVERITIES)
    assert {"battery_low", "battery_critical", "tamper", "solar_yield_low", "port_stopped"} <= set(RULES_BY_CODE)


def test_a_healthy_bench_raises_nothing() -> None:
    assert _codes(AlarmFacts(_twin(), T0)) == set()


@pytest.mark.parametrize(("soc", "expected"), [(15.0, {"battery_low"}), (5.0, {"battery_critical"}), (50.0, set())])
def test_battery_low_and_critical_are_two_rules(soc: float, expected: set[str]) -> None:
    assert _codes(AlarmFacts(_twin(battery=battery(soc_pct=soc)), T0)) == expected


def test_thresholds_override_the_defaults() -> None:
    facts = AlarmFacts(_twin(battery=battery(soc_pct=35.0)), T0)
    assert _codes(facts) == set()
    assert _codes(facts, AlarmThresholds().with_overrides({"battery_low_pct": 40})) == {"battery_low"}
    with pytest.raises(ValueError, match=r"unknown alarm threshold.*no_such"):
        AlarmThresholds().with_overrides({"no_such": 1})


@pytest.mark.parametrize("temp", [50.0, -15.0])
def test_battery_temperature_out_of_range(temp: float) -> None:
    found = evaluate(AlarmFacts(_twin(battery=battery(temp_c=temp)), T0))
    assert set(found) == {"battery_temperature"}
    assert f"{temp:.1f} °C" in found["battery_temperature"].message


def test_offline_only_after_n_minutes() -> None:
    twin = apply_status(_twin(), Status.model_validate_json(json.dumps(status_doc(online=False, when=T0))), T0)[0]
    assert "offline" not in _codes(AlarmFacts(twin, T0 + 5 * MIN))
    assert "offline" in _codes(AlarmFacts(twin, T0 + 16 * MIN))
    assert "offline" not in _codes(AlarmFacts(twin, T0 + 16 * MIN), AlarmThresholds(offline_minutes=30))


def test_frozen_sensor_needs_every_field_stuck_while_the_flow_is_not_zero() -> None:
    six = (13.1,) * 6
    stuck = {"battery": {"current": (-1.2,) * 6, "v": six, "t": (20.0, 20.0, None, 20.0, 20.0, 20.0, 20.0)}}
    moving = {"battery": {"current": (-1.2,) * 6, "v": (13.1, 13.2, 13.1, 13.1, 13.1, 13.1), "t": (20.0,) * 6}}
    at_rest = {"battery": {"current": (0.0,) * 6, "v": six, "t": (20.0,) * 6}}  # idle battery: constant is true
    few = {"battery": {"current": (-1.2,) * 3, "v": (13.1,) * 3}}
    assert "frozen_sensor" in _codes(AlarmFacts(_twin(), T0, sensor_series=stuck))
    for calm in (moving, at_rest, few):
        assert "frozen_sensor" not in _codes(AlarmFacts(_twin(), T0, sensor_series=calm))


def test_solar_yield_low_for_several_days() -> None:
    day = T0.date()
    low = tuple(DayYield(day - timedelta(days=n), 100.0, 1000.0) for n in (3, 2, 1))
    mixed = (*low[:2], DayYield(day - timedelta(days=1), 900.0, 1000.0))
    assert "solar_yield_low" in _codes(AlarmFacts(_twin(), T0, daily_yield=low))
    assert "solar_yield_low" not in _codes(AlarmFacts(_twin(), T0, daily_yield=mixed))
    assert "solar_yield_low" not in _codes(AlarmFacts(_twin(), T0, daily_yield=low[:2]))


SHARE = {"usb": 0.6, "wireless": 0.3, "scooter": 0.1}


def test_a_port_without_sessions_while_the_others_work() -> None:
    def codes(sessions: dict[str, int | None]) -> set[str]:
        return _codes(AlarmFacts(_twin(), T0, port_sessions=sessions, port_share=SHARE))

    assert "port_stopped" in codes({"usb": 0, "wireless": 3, "scooter": 0})  # 3 others → 4.5 usb expected
    assert "port_stopped" not in codes({"usb": 0, "wireless": 1, "scooter": 0})  # 1.5 expected: chance
    assert "port_stopped" not in codes({"usb": 5, "wireless": 3, "scooter": 0})  # scooters are rare
    assert "port_stopped" not in codes({"usb": 0, "wireless": None, "scooter": None})
    assert "port_stopped" not in _codes(AlarmFacts(_twin(), T0, port_sessions={"usb": 0, "wireless": 9}))
    # Hysteresis: once raised it holds while USB has no session, even when the others go quiet.
    quiet = AlarmFacts(_twin(), T0, port_sessions={"usb": 0, "wireless": 1, "scooter": 0}, port_share=SHARE)
    assert "port_stopped" in evaluate(quiet, raised=frozenset({"port_stopped"}))
    repaired = AlarmFacts(_twin(), T0, port_sessions={"usb": 1, "wireless": 1, "scooter": 0}, port_share=SHARE)
    assert "port_stopped" not in evaluate(repaired, raised=frozenset({"port_stopped"}))


def test_tamper_holds_for_a_while_after_the_event() -> None:
    assert "tamper" in _codes(AlarmFacts(_twin(), T0 + 10 * MIN, last_tamper_at=T0))
    assert "tamper" not in _codes(AlarmFacts(_twin(), T0 + 61 * MIN, last_tamper_at=T0))


def test_config_rejected_and_vote_mismatch() -> None:
    twin = _twin()
    twin = twin.model_copy(update={"desired_version": 2})
    doc = reported_doc(config={"version": 2, "status": "rejected", "error": "bad poll"})
    twin = apply_reported(twin, Reported.model_validate_json(json.dumps(doc)), T0)[0]
    assert "config_rejected" in _codes(AlarmFacts(twin, T0))
    twin = twin.model_copy(update={"votes_mismatch_since": T0})
    assert "vote_tally_mismatch" not in _codes(AlarmFacts(twin, T0 + MIN))
    assert "vote_tally_mismatch" in _codes(AlarmFacts(twin, T0 + 11 * MIN))


def test_votes_held_as_suspect_raise_an_alarm_until_reviewed() -> None:
    twin = _twin().model_copy(update={"votes_suspect": 4880})
    assert "votes_suspect" in _codes(AlarmFacts(twin, T0))
    assert "votes_suspect" not in _codes(AlarmFacts(twin.model_copy(update={"votes_suspect": 0}), T0))
