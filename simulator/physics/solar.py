"""Solar chain of a bench: clear-sky irradiance, plane of array, cell temperature, PVWatts DC, controller.

Pure, vectorised functions over a ``pandas.DatetimeIndex`` (UTC) or numpy arrays; all physics comes from
pvlib. Linke turbidity comes from the climatology bundled with pvlib (``LinkeTurbidities.h5``, read
offline through h5py, a pvlib dependency).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

from simulator.physics.assumptions import PanelAssumptions
from simulator.physics.errors import PhysicsError

# pvlib's 'ephemeris' solar position is ~8x faster than 'nrel_numpy' and within ~0.01° for our purpose;
# a year of 5-minute steps for 12 sites then costs well under a second.
SOLAR_POSITION_METHOD = "ephemeris"

# pvlib 0.16 still calls DatetimeIndex.dayofyear, which pandas 3 deprecates; the warning is pvlib's to fix
# and says nothing about our inputs, so it is silenced around pvlib calls only.
_PANDAS_DEPRECATION: type[Warning] = getattr(pd.errors, "Pandas4Warning", FutureWarning)


@contextmanager
def _quiet_pvlib() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _PANDAS_DEPRECATION)
        yield


@dataclass(frozen=True)
class Site:
    """Where a bench stands: a name, WGS84 latitude and longitude in degrees, altitude in metres."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float

    def __post_init__(self) -> None:
        """Reject coordinates outside the globe or an implausible altitude."""
        if not -90.0 <= self.latitude_deg <= 90.0 or math.isnan(self.latitude_deg):
            raise PhysicsError(f"site {self.name!r}: latitude_deg must be in [-90, 90], got {self.latitude_deg}")
        if not -180.0 <= self.longitude_deg <= 180.0 or math.isnan(self.longitude_deg):
            raise PhysicsError(f"site {self.name!r}: longitude_deg must be in [-180, 180], got {self.longitude_deg}")
        if not -500.0 <= self.altitude_m <= 9000.0 or math.isnan(self.altitude_m):
            raise PhysicsError(f"site {self.name!r}: altitude_m must be in [-500, 9000], got {self.altitude_m}")

    def location(self) -> pvlib.location.Location:
        """The pvlib Location (UTC, altitude passed explicitly so pvlib does not look it up)."""
        return pvlib.location.Location(
            self.latitude_deg, self.longitude_deg, tz="UTC", altitude=self.altitude_m, name=self.name
        )


def _utc_index(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if not isinstance(times, pd.DatetimeIndex):
        raise PhysicsError(f"times must be a pandas DatetimeIndex, got {type(times).__name__}")
    if times.tz is None:
        raise PhysicsError("times must be timezone-aware (UTC); got naive timestamps")
    return times.tz_convert("UTC")


def solar_position(site: Site, times: pd.DatetimeIndex) -> pd.DataFrame:
    """Apparent zenith and elevation, zenith and azimuth of the sun in degrees at each time."""
    index = _utc_index(times)
    with _quiet_pvlib():
        position = site.location().get_solarposition(index, method=SOLAR_POSITION_METHOD)
    return position[["apparent_zenith", "apparent_elevation", "zenith", "azimuth"]]


def linke_turbidity(site: Site, times: pd.DatetimeIndex) -> pd.Series:
    """Linke turbidity (dimensionless) from pvlib's bundled monthly climatology, interpolated by day."""
    index = _utc_index(times)
    with _quiet_pvlib():
        return pvlib.clearsky.lookup_linke_turbidity(index, site.latitude_deg, site.longitude_deg)


def clear_sky_irradiance(site: Site, times: pd.DatetimeIndex, position: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clear-sky ``ghi_w_m2``, ``dni_w_m2`` and ``dhi_w_m2`` (Ineichen with Linke climatology)."""
    index = _utc_index(times)
    if position is None:
        position = solar_position(site, index)
    turbidity = linke_turbidity(site, index)
    with _quiet_pvlib():
        clear = site.location().get_clearsky(
            index, model="ineichen", solar_position=position, linke_turbidity=turbidity
        )
    return pd.DataFrame({"ghi_w_m2": clear["ghi"], "dni_w_m2": clear["dni"], "dhi_w_m2": clear["dhi"]}, index=index)


def plane_of_array_irradiance(
    irradiance: pd.DataFrame, position: pd.DataFrame, panel: PanelAssumptions
) -> pd.DataFrame:
    """Irradiance on the tilted seat panel, W/m²: ``poa_w_m2`` and ``poa_effective_w_m2`` (after IAM).

    ``irradiance`` has the columns of :func:`clear_sky_irradiance`; isotropic sky diffuse, which is
    accurate enough for a 10° tilt; the incidence angle modifier (Fresnel, pvlib ``iam.physical``)
    applies to the beam only.
    """
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=panel.tilt_deg,
        surface_azimuth=panel.azimuth_deg,
        solar_zenith=position["apparent_zenith"],
        solar_azimuth=position["azimuth"],
        dni=irradiance["dni_w_m2"],
        ghi=irradiance["ghi_w_m2"],
        dhi=irradiance["dhi_w_m2"],
        albedo=panel.albedo,
        model="isotropic",
    )
    aoi_deg = pvlib.irradiance.aoi(panel.tilt_deg, panel.azimuth_deg, position["zenith"], position["azimuth"])
    iam = pvlib.iam.physical(aoi_deg)
    beam = poa["poa_direct"].fillna(0.0).clip(lower=0.0)
    diffuse = (poa["poa_diffuse"]).fillna(0.0).clip(lower=0.0)
    return pd.DataFrame(
        {"poa_w_m2": beam + diffuse, "poa_effective_w_m2": beam * iam.fillna(0.0) + diffuse},
        index=irradiance.index,
    )


def clear_sky_poa(site: Site, times: pd.DatetimeIndex, panel: PanelAssumptions) -> pd.DataFrame:
    """Clear-sky GHI/DNI/DHI plus plane-of-array irradiance on the seat panel, W/m², at each time."""
    position = solar_position(site, times)
    irradiance = clear_sky_irradiance(site, times, position)
    return irradiance.join(plane_of_array_irradiance(irradiance, position, panel))


def cell_temperature_c(
    poa_w_m2: np.ndarray | pd.Series, air_temp_c: np.ndarray | pd.Series, panel: PanelAssumptions
) -> np.ndarray:
    """Cell temperature, °C, from the SAPM thermal model (pvlib ``temperature.sapm_cell``)."""
    return np.asarray(
        pvlib.temperature.sapm_cell(
            poa_w_m2, air_temp_c, panel.wind_speed_m_s, panel.sapm_a, panel.sapm_b, panel.sapm_delta_t_c
        ),
        dtype=float,
    )


def pv_dc_power_w(
    poa_effective_w_m2: np.ndarray | pd.Series, cell_temp_c: np.ndarray | pd.Series, panel: PanelAssumptions
) -> np.ndarray:
    """Panel DC power after DC losses, W (pvlib ``pvsystem.pvwatts_dc``)."""
    dc = pvlib.pvsystem.pvwatts_dc(poa_effective_w_m2, cell_temp_c, panel.panel_wp, panel.gamma_pdc_per_c)
    return np.clip(np.asarray(dc, dtype=float) * (1.0 - panel.dc_losses_frac), 0.0, None)


def controller_output_w(dc_power_w: np.ndarray | pd.Series, panel: PanelAssumptions) -> np.ndarray:
    """Power the charge controller delivers to the battery bus, W."""
    return np.asarray(dc_power_w, dtype=float) * panel.charge_controller_eff
