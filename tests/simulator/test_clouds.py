"""Climate table and the stochastic cloud/temperature model: calibration, determinism, slicing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, CloudAssumptions
from simulator.physics.climate import (
    CLIMATES,
    climate_for,
    nearest_climate,
    possible_sunshine_h_by_month,
    sunshine_fraction_by_month,
)
from simulator.physics.clouds import block_clear_sky_index, year_weather
from simulator.physics.errors import UnknownSiteError
from simulator.physics.weather import weather_series
from tests.simulator.physics_sites import seed_benches

CLOUDS = CloudAssumptions()


def test_every_seed_municipality_has_a_climate_in_the_stated_ranges() -> None:
    annual = {b.climate.municipality: b.climate.sunshine_h_per_year for b in seed_benches()}
    assert len(annual) == 12
    assert annual["Mostar"] == pytest.approx(2300, abs=30)
    for name in ("Prijedor", "Novi Grad", "Kostajnica"):
        assert 1800 <= annual[name] <= 1900
    for name in ("Maglaj", "Zavidovići", "Žepče"):
        assert annual[name] == pytest.approx(1800, abs=30)
        assert climate_for(name).sunshine_h_by_month[11] == pytest.approx(41, abs=2)
    for name in ("Trebinje", "Ravno", "Berkovići", "Nevesinje", "Jablanica"):
        assert 2000 <= annual[name] <= 2400
    assert climate_for("Maglaj").air_temp_mean_c_by_month[0] < climate_for("Mostar").air_temp_mean_c_by_month[0]


def test_climate_lookup_is_accent_insensitive_and_rejects_unknown_names() -> None:
    assert climate_for("zepce").municipality == "Žepče"
    assert climate_for(" ZAVIDOVICI ").municipality == "Zavidovići"
    with pytest.raises(UnknownSiteError, match="Atlantis"):
        climate_for("Atlantis")


def test_possible_sunshine_is_day_length_and_fractions_are_sensible() -> None:
    possible = possible_sunshine_h_by_month(44.0)
    assert possible.sum() == pytest.approx(4383, rel=0.01)  # ~12 h a day on average
    assert possible[5] / 30 == pytest.approx(15.5, abs=0.3)  # June days at 44° N
    for climate in CLIMATES.values():
        fraction = sunshine_fraction_by_month(climate, 44.0)
        assert ((fraction > 0.1) & (fraction < 0.8)).all()
        assert fraction[6] > fraction[11]


@pytest.mark.parametrize(("municipality", "month"), [("Maglaj", 12), ("Maglaj", 7), ("Mostar", 1), ("Mostar", 8)])
def test_monthly_mean_clear_sky_index_matches_sunshine_fraction(municipality: str, month: int) -> None:
    climate = climate_for(municipality)
    target = sunshine_fraction_by_month(climate, 44.0)[month - 1]
    means = []
    for seed in range(12):
        year = year_weather(municipality, climate, 44.0, 2025, seed, CLOUDS)
        first = date(2025, month, 1).timetuple().tm_yday - 1
        days = slice(first, first + 28)
        ordinals = np.arange(28) + date(2025, month, 1).toordinal()
        blocks = block_clear_sky_index(
            municipality, seed, ordinals, year.sunshine_frac[days], year.overcast_clear_sky_index[days], CLOUDS
        )
        means.append(blocks.mean())
    assert np.mean(means) == pytest.approx(target, rel=0.15)
    assert np.std(means) > 0.01  # months differ from year to year


def test_same_seed_same_weather_and_different_seed_different_weather() -> None:
    bench = seed_benches()[0]
    times = pd.date_range("2025-03-01", periods=7 * 96, freq="15min", tz="UTC")
    first = weather_series(bench.site, bench.climate, times, 7, DEFAULT_ASSUMPTIONS)
    again = weather_series(bench.site, bench.climate, times, 7, DEFAULT_ASSUMPTIONS)
    other = weather_series(bench.site, bench.climate, times, 8, DEFAULT_ASSUMPTIONS)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["clear_sky_index"], other["clear_sky_index"])
    assert not np.allclose(first["air_temp_c"], other["air_temp_c"])


def test_a_day_computed_alone_equals_the_same_day_inside_a_longer_period() -> None:
    bench = seed_benches()[4]
    week = pd.date_range("2025-10-20", periods=7 * 288, freq="5min", tz="UTC")
    day = week[(week >= "2025-10-23 00:00+02:00") & (week < "2025-10-24 00:00+02:00")]
    whole = weather_series(bench.site, bench.climate, week, 3, DEFAULT_ASSUMPTIONS)
    alone = weather_series(bench.site, bench.climate, day, 3, DEFAULT_ASSUMPTIONS)
    pd.testing.assert_frame_equal(whole.loc[day], alone)


def test_weather_has_clear_and_overcast_blocks_and_a_daily_temperature_cycle() -> None:
    bench = seed_benches()[4]
    times = pd.date_range("2025-07-01", periods=30 * 96, freq="15min", tz="UTC")
    weather = weather_series(bench.site, bench.climate, times, 1, DEFAULT_ASSUMPTIONS)
    index = weather["clear_sky_index"]
    assert (index == 1.0).mean() > 0.3
    assert ((index > 0.0) & (index < 0.6)).mean() > 0.05
    by_hour = weather["air_temp_c"].groupby(times.tz_convert("Europe/Sarajevo").hour).mean()
    assert by_hour.idxmax() in (14, 15, 16)
    assert by_hour.max() - by_hour.min() > 5.0


def test_angstrom_prescott_calibration_knob_raises_the_mean_clear_sky_index() -> None:
    climate = climate_for("Prijedor")
    brighter = CloudAssumptions(clear_sky_index_intercept=0.25, clear_sky_index_slope=0.75)
    sunshine = sunshine_fraction_by_month(climate, 45.0)[10]  # November
    ordinals = np.arange(30) + date(2025, 11, 1).toordinal()
    days = slice(304, 334)
    means = {}
    for name, clouds in (("default", CLOUDS), ("brighter", brighter)):
        values = []
        for seed in range(12):
            year = year_weather("Prijedor", climate, 45.0, 2025, seed, clouds)
            blocks = block_clear_sky_index(
                "Prijedor", seed, ordinals, year.sunshine_frac[days], year.overcast_clear_sky_index[days], clouds
            )
            values.append(blocks.mean())
        means[name] = float(np.mean(values))
    assert means["default"] == pytest.approx(sunshine, rel=0.15)
    assert means["brighter"] == pytest.approx(0.25 + 0.75 * sunshine, rel=0.15)


def test_nearest_climate_for_benches_outside_the_seed_municipalities() -> None:
    assert nearest_climate(43.86, 18.41).municipality in {"Žepče", "Zavidovići", "Maglaj", "Jablanica"}  # Sarajevo
    assert nearest_climate(44.77, 17.19).municipality == "Prijedor"  # Banja Luka
    assert nearest_climate(42.93, 17.90).municipality == "Ravno"  # Hutovo blato
    assert {nearest_climate(b.site.latitude_deg, b.site.longitude_deg) for b in seed_benches()} == {
        b.climate for b in seed_benches()
    }
    with pytest.raises(UnknownSiteError, match="latitude_deg"):
        nearest_climate(123.0, 18.0)
