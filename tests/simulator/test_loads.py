"""Usage: Poisson sessions with diurnal, weekly and seasonal profiles; electronics; vote choices."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from simulator.physics.assumptions import LoadAssumptions
from simulator.physics.loads import DayPlan, base_load_w, option_weights, pick_option, plan_day, rate_factor
from simulator.physics.weather import local_day_bounds_s

LOADS = LoadAssumptions()
ZONE = ZoneInfo(LOADS.timezone)


def _plans(first: date, days: int, seed: int = 1, bench: str = "mostar-01") -> list[DayPlan]:
    plans = []
    for ordinal in range(first.toordinal(), first.toordinal() + days):
        start_s, end_s = local_day_bounds_s(ordinal, LOADS.timezone)
        plans.append(plan_day(bench, seed, ordinal, start_s, end_s, LOADS))
    return plans


def _local_hours(instants: list[float]) -> list[int]:
    return [datetime.fromtimestamp(t, ZONE).hour for t in instants]


def test_sessions_peak_late_morning_and_in_the_evening() -> None:
    hours: Counter[int] = Counter()
    for plan in _plans(date(2025, 5, 1), 120):
        for port in plan.ports:
            hours.update(_local_hours(port.start_s))
        hours.update(_local_hours(plan.wifi_start_s))
    per_hour = np.array([hours[h] for h in range(24)])
    assert 17 <= int(per_hour.argmax()) <= 20
    morning_peak = int(np.argmax(per_hour[:15]))
    assert 10 <= morning_peak <= 12
    assert per_hour[morning_peak] > per_hour[14] * 1.2  # a real dip after the late-morning peak
    assert per_hour[morning_peak] > per_hour[8] * 1.2
    assert per_hour[3] < per_hour[morning_peak] * 0.1  # nights are quiet


def test_mean_sessions_per_day_follow_the_rate_and_profiles() -> None:
    plans = _plans(date(2025, 7, 1), 62)
    expected = sum(p.sessions_per_day for p in LOADS.ports) * np.mean(
        [rate_factor(LOADS, plan.ordinal) for plan in plans]
    )
    observed = np.mean([sum(len(port.start_s) for port in plan.ports) for plan in plans])
    assert observed == pytest.approx(expected, rel=0.15)


def test_summer_and_weekends_are_busier_than_winter_and_weekdays() -> None:
    def sessions(plans: list[DayPlan]) -> float:
        return float(np.mean([len(p.wifi_start_s) for p in plans]))

    assert sessions(_plans(date(2025, 7, 1), 31)) > 2.0 * sessions(_plans(date(2025, 1, 1), 31))
    year = _plans(date(2025, 3, 3), 26 * 7)  # 3 March 2025 is a Monday
    saturdays = [p for p in year if date.fromordinal(p.ordinal).weekday() == 5]
    mondays = [p for p in year if date.fromordinal(p.ordinal).weekday() == 0]
    assert sessions(saturdays) > sessions(mondays)


def test_durations_and_powers_match_the_assumptions() -> None:
    plans = _plans(date(2025, 6, 1), 60)
    for index, port in enumerate(LOADS.ports):
        durations = np.concatenate([plan.ports[index].duration_s for plan in plans])
        powers = np.concatenate([plan.ports[index].power_w for plan in plans])
        assert durations.mean() / 60.0 == pytest.approx(port.mean_session_min, rel=0.35)
        assert powers.min() >= port.power_w * port.min_power_frac
        assert powers.max() <= port.power_w


def test_day_plans_are_deterministic_per_seed_and_bench() -> None:
    first = _plans(date(2025, 6, 1), 3, seed=5)
    again = _plans(date(2025, 6, 1), 3, seed=5)
    other_seed = _plans(date(2025, 6, 1), 3, seed=6)
    other_bench = _plans(date(2025, 6, 1), 3, seed=5, bench="trebinje-01")
    assert first == again
    assert first != other_seed
    assert first != other_bench


def test_base_load_is_five_watts_always_on_plus_display() -> None:
    assert base_load_w(LOADS, True, 0, False, 80.0) == pytest.approx(5.0)
    assert base_load_w(LOADS, False, 0, False, 80.0) == pytest.approx(1.5)
    assert base_load_w(LOADS, True, 10, True, 50.0) == pytest.approx(5.0 + 0.5 + 2.0)
    assert base_load_w(LOADS, True, 0, True, 250.0) == pytest.approx(9.0)  # brightness clamped to 100 %


def test_vote_options_follow_fixed_popularity() -> None:
    options = ("yes", "no", "maybe")
    picks = Counter(pick_option("park-2026", options, u) for u in np.random.default_rng(0).random(20000))
    weights = option_weights("park-2026", options)
    for option, weight in zip(options, weights, strict=True):
        assert picks[option] / 20000 == pytest.approx(weight / sum(weights), abs=0.02)
    assert pick_option("park-2026", options, 0.0) == "yes"
    assert pick_option("park-2026", options, 0.999999) == "maybe"
