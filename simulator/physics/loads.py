"""Electrical loads and how people use a bench: always-on electronics, charging sessions, Wi-Fi, votes.

Sessions, Wi-Fi associations and kiosk visitors arrive as non-homogeneous Poisson processes whose rate is
a base rate per day × weekly factor × seasonal factor, spread over the day by the diurnal profile
(peaks late in the morning and 17-20 h). Each local day of each bench is drawn from its own seeded numpy
Generator, so a day's plan does not depend on how the simulation is stepped.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator.physics.assumptions import LoadAssumptions, PortAssumptions
from simulator.physics.clouds import rng_for

MAX_POLLS_PER_VISITOR = 8
"""A visitor answers at most this many open polls (more are ignored), dimensionless."""


def rate_factor(loads: LoadAssumptions, ordinal: int) -> float:
    """Weekly × seasonal usage factor of a local day, dimensionless."""
    day = date.fromordinal(ordinal)
    return loads.weekly_profile[day.weekday()] * loads.seasonal_profile[day.month - 1]


def diurnal_weights(loads: LoadAssumptions) -> np.ndarray:
    """Share of a day's arrivals in each local hour 0..23 (sums to 1)."""
    return _diurnal_weights(loads.diurnal_profile).copy()


@functools.lru_cache(maxsize=16)
def _diurnal_weights(diurnal_profile: tuple[float, ...]) -> np.ndarray:
    profile = np.asarray(diurnal_profile, dtype=float)
    if profile.shape != (24,) or (profile < 0).any() or profile.sum() <= 0:
        raise ValueError("diurnal_profile needs 24 non-negative values with a positive sum")
    weights: np.ndarray = profile / profile.sum()
    return weights


@functools.lru_cache(maxsize=16)
def _diurnal_cdf(diurnal_profile: tuple[float, ...]) -> np.ndarray:
    cdf: np.ndarray = np.cumsum(_diurnal_weights(diurnal_profile))
    cdf[-1] = 1.0
    return cdf


def draw_arrivals_s(
    rng: np.random.Generator, expected: float, start_s: float, end_s: float, loads: LoadAssumptions
) -> np.ndarray:
    """Sorted arrival instants (UTC epoch s) of a Poisson process over one local day with the diurnal shape."""
    count = int(rng.poisson(max(expected, 0.0)))
    # Inverse-CDF draw of the hour (what rng.choice(24, p=...) does, without its per-call validation).
    hours = np.searchsorted(_diurnal_cdf(loads.diurnal_profile), rng.random(count), side="right")
    instants = start_s + (hours + rng.random(count)) * 3600.0
    # The 23-hour spring-forward day loses arrivals drawn after its end; the simplification is documented.
    return np.sort(instants[instants < end_s])


@dataclass(frozen=True)
class PortDayPlan:
    """Charging sessions that will try to start on one port during one day."""

    port: PortAssumptions
    start_s: list[float]
    """Arrival instants, UTC epoch s, sorted."""
    duration_s: list[float]
    """Wanted session durations, s."""
    power_w: list[float]
    """Power each session would draw from an uncapped port, W."""


@dataclass(frozen=True)
class DayPlan:
    """Everything people will try to do at one bench during one local day."""

    ordinal: int
    start_s: float
    end_s: float
    ports: tuple[PortDayPlan, ...]
    wifi_start_s: list[float]
    wifi_duration_s: list[float]
    visitor_s: list[float]
    """Kiosk visitors' arrival instants, UTC epoch s, sorted."""
    visitor_draws: list[list[float]]
    """Per visitor, 2 × MAX_POLLS_PER_VISITOR uniforms: whether to answer poll j, and which option."""


def plan_day(bench_key: str, seed: int, ordinal: int, start_s: float, end_s: float, loads: LoadAssumptions) -> DayPlan:
    """Draw one bench's day: session, Wi-Fi and visitor arrivals with durations and powers."""
    rng = rng_for(seed, "usage", bench_key, ordinal)
    factor = rate_factor(loads, ordinal)
    ports = []
    for port in loads.ports:
        starts = draw_arrivals_s(rng, port.sessions_per_day * factor, start_s, end_s, loads)
        durations = rng.exponential(port.mean_session_min * 60.0, size=len(starts))
        powers = port.power_w * rng.uniform(port.min_power_frac, 1.0, size=len(starts))
        ports.append(PortDayPlan(port, starts.tolist(), durations.tolist(), powers.tolist()))
    wifi = draw_arrivals_s(rng, loads.wifi_sessions_per_day * factor, start_s, end_s, loads)
    wifi_durations = rng.exponential(loads.wifi_mean_session_min * 60.0, size=len(wifi))
    visitors = draw_arrivals_s(rng, loads.poll_visitors_per_day * factor, start_s, end_s, loads)
    draws = rng.random((len(visitors), 2 * MAX_POLLS_PER_VISITOR))
    return DayPlan(
        ordinal=ordinal,
        start_s=start_s,
        end_s=end_s,
        ports=tuple(ports),
        wifi_start_s=wifi.tolist(),
        wifi_duration_s=wifi_durations.tolist(),
        visitor_s=visitors.tolist(),
        visitor_draws=draws.tolist(),
    )


def base_load_w(
    loads: LoadAssumptions, wifi_on: bool, wifi_clients: int, display_on: bool, brightness_pct: float
) -> float:
    """Power of the electronics (controller, router with its clients, display), W."""
    router_w = loads.router_w + loads.wifi_client_w * wifi_clients if wifi_on else 0.0
    display_w = loads.display_w * min(max(brightness_pct, 0.0), 100.0) / 100.0 if display_on else 0.0
    return loads.controller_w + router_w + display_w


def option_weights(poll_id: str, options: tuple[str, ...]) -> tuple[float, ...]:
    """Fixed popularity of each option of a poll (0.5 … 1.5 from a hash), so polls do not come out even."""
    return tuple(0.5 + (zlib.crc32(f"{poll_id}:{o}".encode()) % 1000) / 1000.0 for o in options)


def pick_option(poll_id: str, options: tuple[str, ...], uniform: float) -> str:
    """The option a visitor picks, given a uniform draw in [0, 1)."""
    weights = option_weights(poll_id, options)
    target = uniform * sum(weights)
    running = 0.0
    for option, weight in zip(options, weights, strict=True):
        running += weight
        if target < running:
            return option
    return options[-1]
