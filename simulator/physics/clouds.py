"""Stochastic weather from monthly sunshine climatology: daily sunshine fraction, cloud blocks, air temperature.

The clear-sky index (irradiance / clear-sky irradiance) of a block is 1 in sunshine and a small, noisy
``overcast_clear_sky_index`` under cloud. Each day gets a sunshine fraction drawn from a Beta distribution
whose mean is calibrated so that the monthly mean clear-sky index equals a + b × the month's relative
sunshine duration (sunshine hours / possible hours). The default a = 0, b = 1 is a deliberately
conservative energy assumption (measured irradiation is usually 20-40 % above clear sky × sunshine
fraction, because an overcast sky still gives light).
Days are correlated (AR(1) through a Gaussian copula), blocks within a day follow a two-state Markov chain.

Every draw comes from a numpy Generator seeded by (seed, site name, year or day), so any day can be
computed on its own and gives the same numbers however the period is sliced.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import stats

from simulator.physics.assumptions import CloudAssumptions
from simulator.physics.climate import SiteClimate, sunshine_fraction_by_month

_MID_MONTH_DOY = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
_HOURS_PER_DAY_MAX = 25  # the local day that ends daylight saving time has 25 hours


def rng_for(seed: int, *parts: str | int) -> np.random.Generator:
    """A numpy Generator for (seed, parts...); strings are hashed with CRC-32 so it is stable across runs."""
    keys = [zlib.crc32(p.encode()) if isinstance(p, str) else int(p) for p in parts]
    return np.random.default_rng(np.random.SeedSequence([int(seed), *keys]))


def blocks_per_day(clouds: CloudAssumptions) -> int:
    """Number of sun/cloud blocks that cover the longest (25-hour) local day."""
    return math.ceil(_HOURS_PER_DAY_MAX * 60 / clouds.block_min)


@dataclass(frozen=True)
class YearWeather:
    """Daily weather of one site for one calendar year (arrays indexed by day of year − 1)."""

    year: int
    sunshine_frac: np.ndarray
    """Fraction of the day's blocks in sunshine, expected value, fraction."""
    overcast_clear_sky_index: np.ndarray
    """Mean clear-sky index under cloud, fraction."""
    air_temp_mean_c: np.ndarray
    """Daily mean air temperature, °C."""
    air_temp_range_c: np.ndarray
    """Daily air temperature range (max − min), °C."""


def _monthly_to_daily(values: np.ndarray, n_days: int) -> np.ndarray:
    """Periodic linear interpolation of twelve mid-month values to each day of the year."""
    doy = np.arange(1, n_days + 1, dtype=float)
    xp = np.concatenate(([_MID_MONTH_DOY[-1] - 365.0], _MID_MONTH_DOY, [_MID_MONTH_DOY[0] + 365.0]))
    fp = np.concatenate(([values[-1]], values, [values[0]]))
    return np.asarray(np.interp(doy, xp, fp), dtype=float)


def _ar1_normal(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    """A stationary AR(1) series of standard normal values with lag-one correlation rho."""
    eps = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = eps[0]
    scale = math.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        z[i] = rho * z[i - 1] + scale * eps[i]
    return z


@functools.lru_cache(maxsize=256)
def year_weather(
    site_name: str, climate: SiteClimate, latitude_deg: float, year: int, seed: int, clouds: CloudAssumptions
) -> YearWeather:
    """Draw the daily weather of a site for a calendar year (cached: the draw is deterministic)."""
    n_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    months = np.array([date.fromordinal(date(year, 1, 1).toordinal() + i).month - 1 for i in range(n_days)])
    sunshine = sunshine_fraction_by_month(climate, latitude_deg)[months]
    target = np.clip(clouds.clear_sky_index_intercept + clouds.clear_sky_index_slope * sunshine, 0.02, 0.98)
    # Under cloud at most half of the target, so some sunshine is left to draw even in a foggy December.
    overcast = np.minimum(clouds.overcast_clear_sky_index, 0.5 * target)
    mean_sunny = np.clip((target - overcast) / (1.0 - overcast), 0.01, 0.99)
    rng = rng_for(seed, "year-weather", site_name, year)
    uniform = stats.norm.cdf(_ar1_normal(rng, n_days, clouds.day_persistence))
    kappa = clouds.day_concentration
    sunny = stats.beta.ppf(uniform, mean_sunny * kappa, (1.0 - mean_sunny) * kappa)
    temp_anomaly = clouds.temp_anomaly_sd_c * _ar1_normal(rng, n_days, clouds.temp_anomaly_persistence)
    temp_mean = _monthly_to_daily(np.asarray(climate.air_temp_mean_c_by_month), n_days) + temp_anomaly
    temp_range = _monthly_to_daily(np.asarray(climate.air_temp_range_c_by_month), n_days)
    # Cloudy days have a small daily temperature range, clear days a large one.
    temp_range = temp_range * (0.4 + 0.6 * sunny) / (0.4 + 0.6 * mean_sunny)
    arrays = [np.array(a, dtype=float) for a in (sunny, overcast, temp_mean, temp_range)]
    for a in arrays:  # the result is cached and shared: nobody may change it
        a.setflags(write=False)
    return YearWeather(year, *arrays)


def block_clear_sky_index(
    site_name: str,
    seed: int,
    ordinals: np.ndarray,
    sunshine_frac: np.ndarray,
    overcast_index: np.ndarray,
    clouds: CloudAssumptions,
) -> np.ndarray:
    """Clear-sky index of every block of the given days, shape (days, blocks), fraction.

    ``ordinals`` are the days' proleptic Gregorian ordinals (``date.toordinal()``); each day draws from its
    own Generator, so a day's blocks do not depend on which other days are computed with it.
    """
    n_blocks = blocks_per_day(clouds)
    n_days = len(ordinals)
    uniforms = np.empty((n_days, n_blocks))
    normals = np.empty((n_days, n_blocks))
    for i, ordinal in enumerate(ordinals):
        rng = rng_for(seed, "blocks", site_name, int(ordinal))
        uniforms[i] = rng.random(n_blocks)
        normals[i] = rng.standard_normal(n_blocks)
    sigma = np.clip(sunshine_frac, 0.0, 1.0)
    r = clouds.block_persistence
    stay_sunny = sigma + r * (1.0 - sigma)  # P(sun | sun) of a chain whose stationary share of sun is sigma
    become_sunny = sigma * (1.0 - r)  # P(sun | cloud)
    sunny = np.empty((n_days, n_blocks), dtype=bool)
    sunny[:, 0] = uniforms[:, 0] < sigma
    for b in range(1, n_blocks):
        p = np.where(sunny[:, b - 1], stay_sunny, become_sunny)
        sunny[:, b] = uniforms[:, b] < p
    sd = clouds.cloud_noise_sd
    under_cloud = overcast_index[:, None] * np.exp(sd * normals - 0.5 * sd * sd)
    return np.where(sunny, 1.0, np.clip(under_cloud, 0.0, 0.9))


def diurnal_air_temp_c(mean_c: np.ndarray, range_c: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Air temperature over the day, °C: a cosine with its maximum at 15 h local time."""
    return mean_c + 0.5 * range_c * np.cos(2.0 * math.pi * (local_hour - 15.0) / 24.0)
