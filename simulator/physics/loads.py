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


@functools.lru_cache(maxsize=16)
def _process_table(loads: LoadAssumptions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per process (each port, then Wi-Fi, then visitors): base rate 1/day, mean duration s, power W, min share."""
    rates = [p.sessions_per_day for p in loads.ports] + [loads.wifi_sessions_per_day, loads.poll_visitors_per_day]
    means = [p.mean_session_min * 60.0 for p in loads.ports] + [loads.wifi_mean_session_min * 60.0, 0.0]
    powers = [p.power_w for p in loads.ports] + [0.0, 0.0]
    shares = [p.min_power_frac for p in loads.ports] + [1.0, 1.0]
    return np.asarray(rates), np.asarray(means), np.asarray(powers), np.asarray(shares)


def plan_day(bench_key: str, seed: int, ordinal: int, start_s: float, end_s: float, loads: LoadAssumptions) -> DayPlan:
    """Draw one bench's day: session, Wi-Fi and visitor arrivals with durations and powers.

    All processes are drawn in one batch (a few numpy calls per bench-day, not a few per process),
    because 10,000 benches all start a new day at the same local midnight.
    """
    rng = rng_for(seed, "usage", bench_key, ordinal)
    rates, means_s, powers_w, min_shares = _process_table(loads)
    counts = rng.poisson(rates * rate_factor(loads, ordinal))
    process = np.repeat(np.arange(len(counts)), counts)
    uniforms = rng.random((4, len(process)))
    hours = np.searchsorted(_diurnal_cdf(loads.diurnal_profile), uniforms[0], side="right")
    instants = start_s + (hours + uniforms[1]) * 3600.0
    durations = -np.log1p(-uniforms[2]) * means_s[process]  # exponential by inversion
    powers = powers_w[process] * (min_shares[process] + (1.0 - min_shares[process]) * uniforms[3])
    # The 23-hour spring-forward day loses arrivals drawn after its end; the simplification is documented.
    keep = instants < end_s
    order = np.lexsort((instants[keep], process[keep]))
    process, instants = process[keep][order], instants[keep][order]
    durations, powers = durations[keep][order], powers[keep][order]
    bounds = np.searchsorted(process, np.arange(len(counts) + 1))
    parts = [(bounds[i], bounds[i + 1]) for i in range(len(counts))]
    ports = tuple(
        PortDayPlan(port, instants[lo:hi].tolist(), durations[lo:hi].tolist(), powers[lo:hi].tolist())
        for port, (lo, hi) in zip(loads.ports, parts, strict=False)
    )
    wifi_lo, wifi_hi = parts[-2]
    visitor_lo, visitor_hi = parts[-1]
    draws = rng.random((visitor_hi - visitor_lo, 2 * MAX_POLLS_PER_VISITOR))
    return DayPlan(
        ordinal=ordinal,
        start_s=start_s,
        end_s=end_s,
        ports=ports,
        wifi_start_s=instants[wifi_lo:wifi_hi].tolist(),
        wifi_duration_s=durations[wifi_lo:wifi_hi].tolist(),
        visitor_s=instants[visitor_lo:visitor_hi].tolist(),
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
