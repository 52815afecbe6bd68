"""Vectorised history and yearly yield: calibration per site, energy balance, shedding, speed, consistency."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from simulator.physics.backfill import backfill, yearly_yield
from simulator.physics.battery import stored_wh
from simulator.physics.bench_model import BenchControls, BenchModel
from simulator.physics.errors import PhysicsError
from simulator.physics.votes import PollSpec
from simulator.physics.weather import SolarDayCache
from tests.simulator.physics_sites import SeedBench, seed_bench, seed_benches

CACHE = SolarDayCache()
YEAR_15MIN = pd.date_range("2025-01-01", "2026-01-01", freq="15min", tz="UTC", inclusive="left")
CONTROLS = BenchControls(open_polls=(PollSpec("park-2026", ("yes", "no")),))


def _model(bench_id: str, usage_seed: int = 1, weather_seed: int = 1) -> BenchModel:
    bench = seed_bench(bench_id)
    return BenchModel(bench_id, bench.site, bench.climate, CACHE, weather_seed=weather_seed, usage_seed=usage_seed)


@pytest.mark.parametrize("bench", seed_benches(), ids=lambda b: b.bench_id)
def test_yearly_yield_is_clear_sky_yield_times_sunshine_fraction_within_15_percent(bench: SeedBench) -> None:
    result = yearly_yield(bench.site, bench.climate, 2025, seed=0)
    assert 180.0 < result.clear_sky_kwh < 260.0  # 150 Wp on a 10° seat: ~1,200-1,700 kWh/kWp under clear sky
    assert result.simulated_kwh == pytest.approx(result.reference_kwh, rel=0.15)
    assert result.simulated_kwh == pytest.approx(result.annual_fraction_reference_kwh, rel=0.15)


def test_sunnier_sites_yield_more() -> None:
    by_id = {b.bench_id: yearly_yield(b.site, b.climate, 2025, seed=0) for b in seed_benches()}
    south = np.mean([by_id[i].reference_kwh for i in ("mostar-01", "trebinje-01", "ravno-01")])
    north = np.mean([by_id[i].reference_kwh for i in ("prijedor-01", "novi-grad-01", "kostajnica-01")])
    assert south > north * 1.15


def test_backfill_of_a_year_closes_the_energy_balance() -> None:
    model = _model("maglaj-01")
    result = backfill(model, YEAR_15MIN, CONTROLS)
    ledger = result.ledger
    change = stored_wh(result.final_battery, model.assumptions.battery) - result.initial_stored_wh
    energy_in = ledger.solar_harvested_wh
    assert abs(energy_in - ledger.load_served_wh - ledger.battery_loss_wh - change) / energy_in < 0.01
    frame = result.frame
    hours = 0.25
    assert (frame["solar_power_w"] * hours).sum() == pytest.approx(ledger.solar_harvested_wh, rel=1e-9)
    assert (frame["load_power_w"] * hours).sum() == pytest.approx(ledger.load_served_wh, rel=1e-9)
    assert result.final_battery.capacity_ah < 100.0  # a year of calendar and cycle fade
    assert frame["soc_pct"].between(0.0, 100.0).all()


def test_backfill_sheds_loads_below_their_thresholds_and_never_charges_frozen() -> None:
    frame = backfill(_model("novi-grad-01"), YEAR_15MIN, CONTROLS).frame
    shed = frame["scooter-1.shed"]
    assert shed.any()
    assert (frame.loc[shed, "scooter-1.power_w"] == 0.0).all()
    grew = frame["scooter-1.sessions_today"].diff() > 0
    assert grew.any()
    assert not (grew & shed).any()  # scooter riders who find the port shed are not counted
    assert (frame.loc[frame["wifi_shed"], "wifi_clients"] == 0).all()
    assert frame.loc[frame["soc_pct"] > 50.0, "scooter-1.shed"].sum() == 0  # restored once recharged
    frozen = frame["temp_c"] < 0.0
    assert frozen.any()
    assert (frame.loc[frozen, "current_a"] <= 0.0).all()


def test_backfill_is_deterministic_and_votes_follow_open_polls() -> None:
    times = YEAR_15MIN[: 14 * 96]
    first = backfill(_model("ravno-01"), times, CONTROLS)
    again = backfill(_model("ravno-01"), times, CONTROLS)
    other = backfill(_model("ravno-01", usage_seed=9), times, CONTROLS)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert first.votes == again.votes
    assert not first.frame["usb-1.sessions_today"].equals(other.frame["usb-1.sessions_today"])
    assert first.votes
    assert {v.option for v in first.votes} <= {"yes", "no"}
    assert backfill(_model("ravno-01"), times, BenchControls()).votes == ()


def test_backfill_and_stepping_see_the_same_sun() -> None:
    model = _model("trebinje-01")
    times = pd.date_range("2025-05-05", periods=3 * 288 + 1, freq="5min", tz="UTC")
    history = backfill(model, times[1:], CONTROLS)
    state = model.initial_state(times[0].to_pydatetime(), soc_pct=20.0)
    for t in times[1:]:
        state, _ = model.step(state, t.to_pydatetime(), CONTROLS)
    assert history.ledger.solar_available_wh == pytest.approx(state.ledger.solar_available_wh, rel=0.01)


def test_backfill_daily_counters_reset_at_local_midnight() -> None:
    frame = backfill(_model("zavidovici-01"), YEAR_15MIN[180 * 96 : 183 * 96], CONTROLS).frame
    local = frame.index.tz_convert("Europe/Sarajevo")
    midnight = frame[(local.hour == 0) & (local.minute == 0)]
    assert len(midnight) >= 2
    assert (midnight["energy_today_wh"] == 0.0).all()
    assert frame["energy_today_wh"].max() > 50.0


def test_backfill_rejects_bad_times() -> None:
    with pytest.raises(PhysicsError, match="at least two"):
        backfill(_model("mostar-01"), YEAR_15MIN[:1])
    with pytest.raises(PhysicsError, match="strictly increasing"):
        backfill(_model("mostar-01"), YEAR_15MIN[:4][::-1])
    with pytest.raises(PhysicsError, match="timezone-aware"):
        backfill(_model("mostar-01"), pd.DatetimeIndex([datetime(2025, 1, 1), datetime(2025, 1, 1, 0, 15)]))
