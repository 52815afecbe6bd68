"""Solar chain: clear-sky irradiance against pvlib and physical bands, POA, cell temperature, PVWatts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pvlib
import pytest

from simulator.physics import solar
from simulator.physics.assumptions import PanelAssumptions
from simulator.physics.errors import PhysicsError
from tests.simulator.physics_sites import seed_bench

PANEL = PanelAssumptions()
# Solar noon in Mostar (17.81° E) on 21 June is about 10:50 UTC (12:00 − 17.81°/15 − equation of time).
JUNE_NOON = pd.DatetimeIndex(["2025-06-21 10:50"], tz="UTC")
DECEMBER_NOON = pd.DatetimeIndex(["2025-12-21 10:47"], tz="UTC")


def test_clear_june_noon_in_mostar_matches_pvlib_ineichen_and_physical_band() -> None:
    mostar = seed_bench("mostar-01").site
    ours = solar.clear_sky_irradiance(mostar, JUNE_NOON).iloc[0]
    # pvlib's own defaults at the same place: NREL SPA solar position, Linke climatology, given altitude.
    location = pvlib.location.Location(43.3433, 17.8081, tz="UTC", altitude=60)
    with warnings.catch_warnings():  # pvlib 0.16 uses an index attribute pandas 3 deprecates
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        reference = location.get_clearsky(JUNE_NOON, model="ineichen").iloc[0]
    assert ours["ghi_w_m2"] == pytest.approx(reference["ghi"], rel=0.01)
    assert ours["dni_w_m2"] == pytest.approx(reference["dni"], rel=0.01)
    assert ours["dhi_w_m2"] == pytest.approx(reference["dhi"], rel=0.02)
    # Physically: sun 70° high, clear Mediterranean summer sky.
    assert 880.0 <= ours["ghi_w_m2"] <= 1000.0
    assert 750.0 <= ours["dni_w_m2"] <= 950.0
    assert 60.0 <= ours["dhi_w_m2"] <= 200.0
    # GHI = DNI·cos(zenith) + DHI closes for a clear sky.
    zenith = solar.solar_position(mostar, JUNE_NOON)["apparent_zenith"].iloc[0]
    assert ours["ghi_w_m2"] == pytest.approx(
        ours["dni_w_m2"] * math.cos(math.radians(zenith)) + ours["dhi_w_m2"], rel=0.02
    )


def test_december_noon_is_much_weaker_and_night_is_dark() -> None:
    mostar = seed_bench("mostar-01").site
    december = solar.clear_sky_irradiance(mostar, DECEMBER_NOON)["ghi_w_m2"].iloc[0]
    assert 350.0 <= december <= 550.0  # sun only ~23° high
    night = solar.clear_sky_irradiance(mostar, pd.DatetimeIndex(["2025-06-21 23:00"], tz="UTC"))
    assert (night.to_numpy() == 0.0).all()


def test_altitude_is_passed_to_pvlib() -> None:
    nevesinje = seed_bench("nevesinje-01").site
    low = solar.Site("sea level", nevesinje.latitude_deg, nevesinje.longitude_deg, 0.0)
    high = solar.clear_sky_irradiance(nevesinje, JUNE_NOON)["ghi_w_m2"].iloc[0]
    sea = solar.clear_sky_irradiance(low, JUNE_NOON)["ghi_w_m2"].iloc[0]
    assert high > sea * 1.01  # thinner air at 890 m


def test_linke_turbidity_comes_from_the_bundled_climatology() -> None:
    mostar = seed_bench("mostar-01").site
    times = pd.date_range("2025-01-15", periods=12, freq="MS", tz="UTC")
    turbidity = solar.linke_turbidity(mostar, times)
    assert ((turbidity > 1.5) & (turbidity < 7.0)).all()
    assert turbidity.nunique() > 1  # a monthly climatology, not a constant


def test_seat_panel_poa_gains_in_winter_and_stays_close_in_summer() -> None:
    mostar = seed_bench("mostar-01").site
    summer = solar.clear_sky_poa(mostar, JUNE_NOON, PANEL).iloc[0]
    winter = solar.clear_sky_poa(mostar, DECEMBER_NOON, PANEL).iloc[0]
    assert summer["poa_w_m2"] == pytest.approx(summer["ghi_w_m2"], rel=0.05)  # 10° tilt, high sun
    assert winter["poa_w_m2"] > winter["ghi_w_m2"] * 1.08  # tilted towards the low winter sun
    assert summer["poa_effective_w_m2"] <= summer["poa_w_m2"]  # reflection losses


def test_cell_temperature_follows_sapm_close_mount_formula() -> None:
    cell = solar.cell_temperature_c(np.array([0.0, 1000.0]), np.array([25.0, 25.0]), PANEL)
    expected = 25.0 + 1000.0 * math.exp(-2.98 - 0.0471 * PANEL.wind_speed_m_s) + 1.0
    assert cell[0] == pytest.approx(25.0)
    assert cell[1] == pytest.approx(expected, abs=0.01)
    assert 65.0 < cell[1] < 80.0  # a panel in a seat runs hot


def test_pvwatts_dc_and_controller_known_values() -> None:
    stc = solar.pv_dc_power_w(np.array([1000.0]), np.array([25.0]), PANEL)[0]
    assert stc == pytest.approx(150.0 * (1.0 - 0.14))
    hot = solar.pv_dc_power_w(np.array([1000.0]), np.array([45.0]), PANEL)[0]
    assert hot == pytest.approx(stc * (1.0 - 0.0037 * 20.0))
    half = solar.pv_dc_power_w(np.array([500.0]), np.array([25.0]), PANEL)[0]
    assert half == pytest.approx(stc / 2.0)
    assert solar.controller_output_w(np.array([stc]), PANEL)[0] == pytest.approx(stc * 0.96)


def test_bad_inputs_name_what_is_wrong() -> None:
    with pytest.raises(PhysicsError, match="latitude_deg"):
        solar.Site("nowhere", 95.0, 17.0, 100.0)
    with pytest.raises(PhysicsError, match="altitude_m"):
        solar.Site("moon", 43.0, 17.0, 20000.0)
    mostar = seed_bench("mostar-01").site
    with pytest.raises(PhysicsError, match="timezone-aware"):
        solar.clear_sky_irradiance(mostar, pd.DatetimeIndex(["2025-06-21 10:50"]))
