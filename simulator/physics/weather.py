"""Site weather and solar output as time series, and a per-day cache so many benches can be stepped cheaply.

``site_series`` is the vectorised path (backfill, yearly yield): clear-sky POA from pvlib once for all the
times, scaled by the stochastic clear-sky index, then SAPM cell temperature, PVWatts DC and the charge
controller. ``SolarDayCache`` runs the same path once per site and local day on a one-minute grid and keeps
cumulative energy, so a bench step is a couple of list look-ups instead of a pvlib call.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulator.physics import clouds as cloud_model
from simulator.physics import solar
from simulator.physics.assumptions import Assumptions
from simulator.physics.climate import SiteClimate
from simulator.physics.solar import Site

_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
GRID_S = 60
"""Resolution of the cached daily solar series, s."""


def local_days_and_hours(times: pd.DatetimeIndex, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Local date ordinals and local wall-clock hours (fractional) of UTC times."""
    local = times.tz_convert(timezone)
    naive = local.tz_localize(None)
    ordinals = naive.values.astype("datetime64[D]").astype(np.int64) + _UNIX_EPOCH_ORDINAL
    hours = np.asarray(naive.hour + naive.minute / 60.0 + naive.second / 3600.0, dtype=float)
    return ordinals, hours


def weather_series(
    site: Site, climate: SiteClimate, times: pd.DatetimeIndex, seed: int, assumptions: Assumptions
) -> pd.DataFrame:
    """Clear-sky index (fraction) and air temperature (°C) at each UTC time, from the stochastic model."""
    clouds = assumptions.clouds
    ordinals, hours = local_days_and_hours(times, assumptions.loads.timezone)
    unique_days, day_idx = np.unique(ordinals, return_inverse=True)
    sunny = np.empty(len(unique_days))
    overcast = np.empty(len(unique_days))
    temp_mean = np.empty(len(unique_days))
    temp_range = np.empty(len(unique_days))
    for i, ordinal in enumerate(unique_days):
        day = date.fromordinal(int(ordinal))
        year = cloud_model.year_weather(site.name, climate, site.latitude_deg, day.year, seed, clouds)
        doy = day.timetuple().tm_yday - 1
        sunny[i] = year.sunshine_frac[doy]
        overcast[i] = year.overcast_clear_sky_index[doy]
        temp_mean[i] = year.air_temp_mean_c[doy]
        temp_range[i] = year.air_temp_range_c[doy]
    blocks = cloud_model.block_clear_sky_index(site.name, seed, unique_days, sunny, overcast, clouds)
    block_idx = np.minimum((hours * 60.0 / clouds.block_min).astype(int), blocks.shape[1] - 1)
    index = blocks[day_idx, block_idx]
    air = cloud_model.diurnal_air_temp_c(temp_mean[day_idx], temp_range[day_idx], hours)
    return pd.DataFrame({"clear_sky_index": index, "air_temp_c": air}, index=times)


def site_series(
    site: Site, climate: SiteClimate, times: pd.DatetimeIndex, seed: int, assumptions: Assumptions
) -> pd.DataFrame:
    """Solar chain at each UTC time: irradiance (W/m²), temperatures (°C) and powers (W), clear and cloudy.

    Columns: ``ghi_w_m2``, ``poa_clear_w_m2``, ``clear_sky_index``, ``poa_w_m2``, ``air_temp_c``,
    ``cell_temp_c``, ``pv_dc_w``, ``solar_bus_w`` (controller output), ``pv_dc_clear_w`` and
    ``solar_bus_clear_w`` (the same chain under a clear sky at the same air temperature).
    """
    panel = assumptions.panel
    clear = solar.clear_sky_poa(site, times, panel)
    weather = weather_series(site, climate, clear.index, seed, assumptions)
    k = weather["clear_sky_index"].to_numpy()
    air = weather["air_temp_c"].to_numpy()
    poa_clear = clear["poa_w_m2"].to_numpy()
    poa = poa_clear * k
    cell = solar.cell_temperature_c(poa, air, panel)
    dc = solar.pv_dc_power_w(clear["poa_effective_w_m2"].to_numpy() * k, cell, panel)
    cell_clear = solar.cell_temperature_c(poa_clear, air, panel)
    dc_clear = solar.pv_dc_power_w(clear["poa_effective_w_m2"].to_numpy(), cell_clear, panel)
    return pd.DataFrame(
        {
            "ghi_w_m2": clear["ghi_w_m2"].to_numpy() * k,
            "poa_clear_w_m2": poa_clear,
            "clear_sky_index": k,
            "poa_w_m2": poa,
            "air_temp_c": air,
            "cell_temp_c": cell,
            "pv_dc_w": dc,
            "solar_bus_w": solar.controller_output_w(dc, panel),
            "pv_dc_clear_w": dc_clear,
            "solar_bus_clear_w": solar.controller_output_w(dc_clear, panel),
        },
        index=clear.index,
    )


def local_day_bounds_s(ordinal: int, timezone: str) -> tuple[float, float]:
    """UTC epoch seconds of the local midnight that starts a day and of the next one."""
    zone = ZoneInfo(timezone)
    day = date.fromordinal(ordinal)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class SolarDay:
    """One site's solar output over one local day on a one-minute grid.

    Stored as ``array('d')``: compact (~46 kB a day) and as fast as a list for single-element look-ups,
    which is all a bench step does.
    """

    ordinal: int
    start_s: float
    end_s: float
    bus_w: array[float]
    """Controller output at each grid point, W."""
    cum_bus_wh: array[float]
    """Controller output integrated from the day's start to each grid point, Wh."""
    cum_dc_wh: array[float]
    """Panel DC output integrated from the day's start to each grid point, Wh."""
    air_temp_c: array[float]
    """Air temperature at each grid point, °C."""

    def _position(self, t_s: float) -> tuple[int, float]:
        x = (min(max(t_s, self.start_s), self.end_s) - self.start_s) / GRID_S
        i = min(int(x), len(self.cum_bus_wh) - 2)
        return i, x - i

    def energy_wh(self, t0_s: float, t1_s: float) -> tuple[float, float]:
        """Solar energy (controller output, panel DC) between two instants of this day, Wh."""
        i0, f0 = self._position(t0_s)
        i1, f1 = self._position(t1_s)
        bus, dc = self.cum_bus_wh, self.cum_dc_wh
        bus_wh = (bus[i1] + f1 * (bus[i1 + 1] - bus[i1])) - (bus[i0] + f0 * (bus[i0 + 1] - bus[i0]))
        dc_wh = (dc[i1] + f1 * (dc[i1 + 1] - dc[i1])) - (dc[i0] + f0 * (dc[i0 + 1] - dc[i0]))
        return bus_wh, dc_wh

    def bus_power_w(self, t_s: float) -> float:
        """Controller output power available at an instant, W."""
        i, f = self._position(t_s)
        return self.bus_w[i] + f * (self.bus_w[i + 1] - self.bus_w[i])

    def air_temp_at_c(self, t_s: float) -> float:
        """Air temperature at an instant, °C."""
        i, f = self._position(t_s)
        return self.air_temp_c[i] + f * (self.air_temp_c[i + 1] - self.air_temp_c[i])


def solar_day(site: Site, climate: SiteClimate, ordinal: int, seed: int, assumptions: Assumptions) -> SolarDay:
    """Compute one site's solar day (one pvlib run over ~1,441 one-minute points)."""
    start_s, end_s = local_day_bounds_s(ordinal, assumptions.loads.timezone)
    n = math.ceil((end_s - start_s) / GRID_S) + 1
    times = pd.DatetimeIndex(pd.to_datetime(start_s + GRID_S * np.arange(n), unit="s", utc=True))
    series = site_series(site, climate, times, seed, assumptions)
    bus = series["solar_bus_w"].to_numpy()
    dc = series["pv_dc_w"].to_numpy()
    # Trapezoidal cumulative energy: exact for the piecewise-linear power the look-ups interpolate.
    cum_bus = np.concatenate(([0.0], np.cumsum(0.5 * (bus[1:] + bus[:-1]) * GRID_S / 3600.0)))
    cum_dc = np.concatenate(([0.0], np.cumsum(0.5 * (dc[1:] + dc[:-1]) * GRID_S / 3600.0)))
    return SolarDay(
        ordinal=ordinal,
        start_s=start_s,
        end_s=end_s,
        bus_w=array("d", bus.astype(float).tobytes()),
        cum_bus_wh=array("d", cum_bus.astype(float).tobytes()),
        cum_dc_wh=array("d", cum_dc.astype(float).tobytes()),
        air_temp_c=array("d", series["air_temp_c"].to_numpy(dtype=float).tobytes()),
    )


class SolarDayCache:
    """Memo of ``solar_day`` results keyed by (site, climate, day, seed, assumptions); evicts the oldest."""

    def __init__(self, max_entries: int = 1024) -> None:
        """Keep at most ``max_entries`` site-days (each about 50 kB)."""
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._max = max_entries
        self._days: OrderedDict[tuple[object, ...], SolarDay] = OrderedDict()
        self.computed = 0
        """How many site-days were computed (not served from the cache)."""

    def get(self, site: Site, climate: SiteClimate, ordinal: int, seed: int, assumptions: Assumptions) -> SolarDay:
        """The site's solar day, computed on first use."""
        key = (site, climate, ordinal, seed, assumptions)
        found = self._days.get(key)
        if found is not None:
            return found
        day = solar_day(site, climate, ordinal, seed, assumptions)
        self.computed += 1
        self._days[key] = day
        if len(self._days) > self._max:
            self._days.popitem(last=False)
        return day
