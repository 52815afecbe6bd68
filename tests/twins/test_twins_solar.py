"""One panel, one clear-sky expectation: twins.solar against pvlib and against the simulator's clear-sky output.

Stated tolerances: solar position within 0.05° of pvlib's NREL SPA; Ineichen irradiance equal to pvlib's
for the same turbidity (1e-9 relative); daily clear-sky energy within 15 % of the simulator's pvlib chain
at every site and month (median within 3 %: the rest is pvlib's per-site Linke turbidity and the simulated
air temperature, which the expectation takes as typical values for the region and month).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pvlib
import pytest

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, PanelAssumptions
from simulator.physics.weather import site_series
from tests.simulator.physics_sites import seed_bench, seed_benches
from twins.solar import DEFAULT_PANEL, Panel, clear_sky, clear_sky_energy_wh, clear_sky_power_w, sun_position

MOSTAR = seed_bench("mostar-01").site
YEAR = pd.date_range("2025-01-01", "2026-01-01", freq="47min", tz="UTC", inclusive="left")


def test_the_simulator_simulates_the_one_panel() -> None:
    assert PanelAssumptions is Panel
    assert DEFAULT_ASSUMPTIONS.panel == DEFAULT_PANEL


def test_sun_position_matches_pvlib_spa() -> None:
    spa = MOSTAR.location().get_solarposition(YEAR, method="nrel_numpy")
    ours = [sun_position(MOSTAR.latitude_deg, MOSTAR.longitude_deg, t.to_pydatetime()) for t in YEAR]
    up = spa["apparent_zenith"].to_numpy() < 88.0
    zenith = np.array([p.apparent_zenith_deg for p in ours])
    azimuth = np.array([p.azimuth_deg for p in ours])
    assert np.abs(zenith - spa["apparent_zenith"].to_numpy())[up].max() < 0.05
    assert np.abs((azimuth - spa["azimuth"].to_numpy() + 180.0) % 360.0 - 180.0)[up].max() < 0.05


def test_clear_sky_irradiance_is_pvlib_ineichen() -> None:
    spa = MOSTAR.location().get_solarposition(YEAR, method="nrel_numpy")
    zenith = spa["apparent_zenith"]
    turbidity = pvlib.clearsky.lookup_linke_turbidity(YEAR, MOSTAR.latitude_deg, MOSTAR.longitude_deg)
    airmass = pvlib.atmosphere.get_absolute_airmass(
        pvlib.atmosphere.get_relative_airmass(zenith), pvlib.atmosphere.alt2pres(MOSTAR.altitude_m)
    )
    reference = pvlib.clearsky.ineichen(
        zenith, airmass, turbidity, altitude=MOSTAR.altitude_m, dni_extra=pvlib.irradiance.get_extra_radiation(YEAR)
    )
    ours = [
        clear_sky(z, MOSTAR.altitude_m, t.dayofyear, tl)
        for z, t, tl in zip(zenith.to_numpy(), YEAR, turbidity.to_numpy(), strict=True)
    ]
    day = reference["ghi"].to_numpy() > 1.0
    for name, column in (("ghi_w_m2", "ghi"), ("dni_w_m2", "dni"), ("dhi_w_m2", "dhi")):
        mine = np.array([getattr(sky, name) for sky in ours])
        assert np.allclose(mine[day], reference[column].to_numpy()[day], rtol=1e-9, atol=1e-6), name


def test_expectation_matches_the_simulated_clear_sky_at_every_site_and_month() -> None:
    differences = []
    for bench in seed_benches():
        site = bench.site
        for month in range(1, 13):
            day = datetime(2025, month, 15, tzinfo=UTC)
            times = pd.date_range(day, day + timedelta(days=1), freq="10min", inclusive="left") + pd.Timedelta("5min")
            simulated = site_series(site, bench.climate, times, 0, DEFAULT_ASSUMPTIONS)["solar_bus_clear_w"]
            simulated_wh = float(simulated.sum()) / 6.0
            expected_wh = clear_sky_energy_wh(
                site.latitude_deg, site.longitude_deg, site.altitude_m, day, day + timedelta(days=1)
            )
            differences.append(abs(expected_wh / simulated_wh - 1.0))
            assert expected_wh == pytest.approx(simulated_wh, rel=0.15), (bench.bench_id, month)
    assert statistics.median(differences) < 0.03


def test_expectation_is_zero_at_night_and_scales_with_the_panel() -> None:
    night = datetime(2025, 6, 21, 23, 0, tzinfo=UTC)
    noon = datetime(2025, 6, 21, 10, 50, tzinfo=UTC)
    lat, lon, alt = MOSTAR.latitude_deg, MOSTAR.longitude_deg, MOSTAR.altitude_m
    assert clear_sky_power_w(lat, lon, alt, night) == 0.0
    summer = clear_sky_power_w(lat, lon, alt, noon)
    assert 0.6 * DEFAULT_PANEL.panel_wp < summer < DEFAULT_PANEL.panel_wp
    bigger = clear_sky_power_w(lat, lon, alt, noon, Panel(panel_wp=300.0))
    assert bigger == pytest.approx(2 * summer)
