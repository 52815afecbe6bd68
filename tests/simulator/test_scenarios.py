"""Scenario files: the shipped ones load, bad ones are refused naming the key, and effects follow the model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.scenarios.effects import NO_EFFECTS, build_schedules
from simulator.scenarios.model import ScenarioError, load_scenario, parse_scenario, shipped_scenarios
from simulator.sites import seed_sites

START = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)
H = 'name = "x"\n[[faults]]\n'
SEED_IDS = [s.bench_id for s in seed_sites()]
HOUR = 3600.0
DAY = 86400.0


def _schedule(toml: str, bench_id: str = "mostar-01", seed: int = 1):  # type: ignore[no-untyped-def]
    scenario = parse_scenario(toml, source="test.toml")
    return build_schedules(scenario, SEED_IDS, START, None, seed)[bench_id]


def test_shipped_scenarios_load_and_target_seed_benches() -> None:
    """winter week, vandalism night and two-day outage ship with the project and fit the 12 benches."""
    names = {p.stem for p in shipped_scenarios()}
    assert {"winter_week", "vandalism_night", "two_day_outage"} <= names
    for path in shipped_scenarios():
        scenario = load_scenario(path)
        assert scenario.faults
        # The demo's faults are placed from the demo's own start; the others name their season.
        assert scenario.start is not None or path.stem == "demo"
        start = scenario.start or datetime(2026, 12, 1, tzinfo=UTC)
        schedules = build_schedules(scenario, SEED_IDS, start, None, seed=1)
        assert schedules


def test_a_shipped_scenario_is_found_by_its_short_name() -> None:
    """``--scenario winter_week`` finds the shipped file."""
    assert load_scenario(Path("winter_week")).name == "winter-week"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            H + 'kind = "snow"\nbenches = ["mostar-01"]\ncover_pct = 140',
            r"faults\[0\]\.cover_pct \(snow\)",
        ),
        (H + 'kind = "hail"\nbenches = ["mostar-01"]', r"faults\[0\].*hail"),
        (
            H + 'kind = "outage"\nbenches = ["mostar-01"]\ncolour = 3',
            r"faults\[0\]\.colour \(outage\)",
        ),
        (H + 'kind = "outage"\nbenches = []', r"faults\[0\]\.benches \(outage\)"),
        (H + 'kind = "outage"\nbenches = ["a-1"]\nstart = "2x"', r"faults\[0\]\.start"),
        (H + 'kind = "outage"\nbenches = ["a-1"]\nstart = "2h"\nend = "1h"', "end must be after"),
        ('name = "x"\nduration = "forever"', "duration"),
        ("name = ", "not valid TOML"),
    ],
)
def test_bad_scenarios_name_file_and_key(toml: str, message: str) -> None:
    """Every error names the file and the offending key."""
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(toml, source="bad.toml")
    assert "bad.toml" in str(info.value)


def test_unknown_bench_is_named() -> None:
    """A fault aimed at a bench the run does not simulate is refused naming it."""
    scenario = parse_scenario(H + 'kind = "outage"\nbenches = ["atlantis-01"]')
    with pytest.raises(ScenarioError, match="atlantis-01"):
        build_schedules(scenario, SEED_IDS, START, None, seed=1)


def test_missing_file_lists_the_shipped_ones(tmp_path: Path) -> None:
    """A scenario path that does not exist: the error says so and lists what ships."""
    with pytest.raises(ScenarioError, match="winter_week"):
        load_scenario(tmp_path / "nope.toml")


def test_soiling_grows_daily_and_rain_washes_it_off() -> None:
    """Loss grows at the stated rate up to the cap; with rain certain it is reset every day."""
    dry = _schedule(H + 'kind = "soiling"\nbenches = ["*"]\nrate_pct_per_day = 10\nmax_pct = 25\nrain_probability = 0')
    t = START.timestamp()
    assert dry.effects(t + 1 * DAY).solar_factor == pytest.approx(0.90)
    assert dry.effects(t + 2 * DAY).solar_factor == pytest.approx(0.80)
    assert dry.effects(t + 9 * DAY).solar_factor == pytest.approx(0.75)
    wet = _schedule(H + 'kind = "soiling"\nbenches = ["*"]\nrate_pct_per_day = 10\nrain_probability = 1')
    assert wet.effects(t + 5 * DAY + 12 * HOUR).solar_factor > 0.9  # washed at the start of every local day


def test_rain_days_are_reproducible_from_the_seed() -> None:
    """The same seed gives the same rainy days; another seed gives others."""
    toml = H + 'kind = "soiling"\nbenches = ["*"]\nrate_pct_per_day = 5\nrain_probability = 0.3'
    times = [START.timestamp() + d * DAY + 12 * HOUR for d in range(60)]
    a = [_schedule(toml, seed=1).effects(t).solar_factor for t in times]
    b = [_schedule(toml, seed=1).effects(t).solar_factor for t in times]
    c = [_schedule(toml, seed=2).effects(t).solar_factor for t in times]
    assert a == b
    assert a != c


def test_snow_melts_and_shading_follows_local_hours() -> None:
    """Snow cover shrinks by the melt rate; shading applies only inside its local hours."""
    snow = _schedule(H + 'kind = "snow"\nbenches = ["*"]\ncover_pct = 90\nmelt_pct_per_day = 30')
    t = START.timestamp()
    assert snow.effects(t).solar_factor == pytest.approx(0.10)
    assert snow.effects(t + 2 * DAY).solar_factor == pytest.approx(0.70)
    assert snow.effects(t + 4 * DAY) is NO_EFFECTS
    shade = _schedule(H + 'kind = "shading"\nbenches = ["*"]\nloss_pct = 50\nfrom_hour = 10\nto_hour = 14')
    assert shade.effects(t + 10 * HOUR).solar_factor == pytest.approx(0.5)  # 11:00 local (UTC+1)
    assert shade.effects(t + 14 * HOUR).solar_factor == 1.0  # 15:00 local


def test_windows_and_one_off_actions() -> None:
    """Faults act only between start and end; tamper fires at its start and every ``every_min``."""
    toml = """
name = "x"
[[faults]]
kind = "outage"
benches = ["mostar-01"]
start = "1h"
end = "3h"
[[faults]]
kind = "tamper"
benches = ["mostar-01"]
start = "2h"
end = "2h30m"
every_min = 10
[[faults]]
kind = "dead_port"
benches = ["mostar-01"]
port = "usb-1"
start = "2026-03-20T05:00:00Z"
"""
    schedule = _schedule(toml)
    t = START.timestamp()
    assert not schedule.effects(t + 0.5 * HOUR).offline
    assert schedule.effects(t + 1 * HOUR).offline
    assert not schedule.effects(t + 3 * HOUR).offline
    assert schedule.effects(t + 5 * HOUR).dead_ports == frozenset({"usb-1"})
    fired = [a.t_s - t for a in schedule.actions(t, t + 4 * HOUR) if a.kind == "tamper"]
    assert fired == [2 * HOUR + m * 60 for m in (0, 10, 20)]
    # Split windows give the same actions as one window: nothing fires twice or is skipped.
    split = schedule.actions(t, t + 2 * HOUR + 600) + schedule.actions(t + 2 * HOUR + 600, t + 4 * HOUR)
    assert [a.t_s - t for a in split if a.kind == "tamper"] == fired


def test_battery_degradation_outlasts_its_window() -> None:
    """A battery does not heal: the reduced capacity stays after the fault's end."""
    schedule = _schedule(H + 'kind = "battery_degradation"\nbenches = ["*"]\ncapacity_pct = 40\nend = "1d"')
    assert schedule.effects(START.timestamp() + 3 * DAY).capacity_pct == 40
    assert schedule.effects(START.timestamp() - 1).capacity_pct is None
