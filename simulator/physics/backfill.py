"""Vectorised history of one bench (backfill) and the yearly solar yield of a site.

The solar chain and usage arrivals are computed for all timestamps at once with numpy/pvlib; only the
battery and load shedding, which depend on the previous state of charge, run in one plain-float loop.
Differences from stepping ``BenchModel`` (stated simplifications): solar energy per interval is the
trapezoid of the sampled power; sessions are planned with the ports' configuration fixed for the whole
period; a shed port draws nothing while shed, but a brown-out does not cut sessions short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, Assumptions
from simulator.physics.battery import OCV_SOC_PCT, OCV_V, BatteryState, battery_core, stored_wh
from simulator.physics.bench_model import DEFAULT_CONTROLS, BenchControls, BenchModel, EnergyLedger, VoteDraw
from simulator.physics.climate import SiteClimate, possible_sunshine_h_by_month, sunshine_fraction_by_month
from simulator.physics.errors import PhysicsError
from simulator.physics.loads import MAX_POLLS_PER_VISITOR, DayPlan, pick_option
from simulator.physics.solar import Site
from simulator.physics.weather import local_days_and_hours, site_series


@dataclass(frozen=True)
class SheddingThresholds:
    """Battery state of charge (%) below which loads are switched off, and the margin to switch them back on."""

    scooter_below_pct: float = 40.0
    wifi_below_pct: float = 25.0
    usb_below_pct: float = 15.0
    """USB and wireless (phone) charging are shed together."""
    hysteresis_pct: float = 5.0


DEFAULT_SHEDDING = SheddingThresholds()

# Which shedding threshold switches off each load kind.
_SHED_BY = {
    "scooter": "scooter_below_pct",
    "wifi": "wifi_below_pct",
    "usb": "usb_below_pct",
    "wireless": "usb_below_pct",
}


@dataclass(frozen=True)
class Backfill:
    """A simulated history: one telemetry row per timestamp, the votes cast, and the energy ledger."""

    frame: pd.DataFrame
    """Index: the UTC timestamps. Columns: battery, solar, load, per-port, Wi-Fi fields (units in names)."""
    votes: tuple[VoteDraw, ...]
    ledger: EnergyLedger
    initial_stored_wh: float
    final_battery: BatteryState


def _daily_cumsum(values: np.ndarray, start_of_day: np.ndarray) -> np.ndarray:
    """Running total of ``values`` that restarts wherever ``start_of_day`` is true."""
    total = np.cumsum(values, dtype=float)
    before = np.concatenate(([0.0], total[:-1]))
    day_index = np.cumsum(start_of_day) - 1
    result: np.ndarray = total - before[np.flatnonzero(start_of_day)][day_index]
    return result


def _interval_s(times: pd.DatetimeIndex) -> np.ndarray:
    """Length of the interval ending at each timestamp, s (the first one repeats the second's length)."""
    if len(times) < 2:
        raise PhysicsError("times must hold at least two timestamps")
    epoch = times.as_unit("ns").asi8 / 1e9
    dt = np.diff(epoch)
    if (dt <= 0).any():
        raise PhysicsError("times must be strictly increasing")
    return np.concatenate(([dt[0]], dt))


def _sessions(plans: list[DayPlan], port_index: int, cap_w: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepted sessions (start s, end s, power W) of one single-outlet port: arrivals while busy are lost."""
    starts: list[float] = []
    ends: list[float] = []
    powers: list[float] = []
    busy_until = -np.inf
    for plan in plans:
        port = plan.ports[port_index]
        for start, duration, power in zip(port.start_s, port.duration_s, port.power_w, strict=True):
            if start >= busy_until:
                busy_until = start + duration
                starts.append(start)
                ends.append(busy_until)
                powers.append(min(power, cap_w))
    return np.asarray(starts), np.asarray(ends), np.asarray(powers)


def _cumulative_energy_wh(starts: np.ndarray, ends: np.ndarray, powers: np.ndarray, at_s: np.ndarray) -> np.ndarray:
    """Energy drawn by non-overlapping sessions from the beginning up to each instant, Wh."""
    if len(starts) == 0:
        return np.zeros(len(at_s))
    energy = powers * (ends - starts) / 3600.0
    before = np.concatenate(([0.0], np.cumsum(energy)[:-1]))
    knots_t = np.column_stack((starts, ends)).ravel()
    knots_e = np.column_stack((before, before + energy)).ravel()
    return np.asarray(np.interp(at_s, knots_t, knots_e, left=0.0), dtype=float)


def _active_power_w(starts: np.ndarray, ends: np.ndarray, powers: np.ndarray, at_s: np.ndarray) -> np.ndarray:
    """Power of the session running at each instant, W (0 when idle)."""
    if len(starts) == 0:
        return np.zeros(len(at_s))
    idx = np.searchsorted(starts, at_s, side="right") - 1
    safe = np.maximum(idx, 0)
    running = (idx >= 0) & (ends[safe] > at_s)
    return np.where(running, powers[safe], 0.0)


def backfill(
    model: BenchModel,
    times: pd.DatetimeIndex,
    controls: BenchControls = DEFAULT_CONTROLS,
    shedding: SheddingThresholds | None = DEFAULT_SHEDDING,
    display_hours: tuple[int, int] = (6, 23),
    soc_pct: float | None = None,
) -> Backfill:
    """Simulate one bench over ``times`` (UTC, e.g. a year at 5 or 15 minutes) in one vectorised pass.

    ``controls`` hold for the whole period (its ``shed`` and ``display_on`` are ignored: shedding follows
    ``shedding`` thresholds, the display is lit from ``display_hours[0]`` to ``display_hours[1]`` local time).
    """
    assumptions = model.assumptions
    loads = assumptions.loads
    spec = assumptions.battery
    dt_s = _interval_s(times)
    at_s = times.as_unit("ns").asi8 / 1e9
    begin_s = at_s[0] - dt_s[0]
    series = site_series(model.site, model.climate, times, model.weather_seed, assumptions)
    bus_w = series["solar_bus_w"].to_numpy()
    dc_w = series["pv_dc_w"].to_numpy()
    solar_wh = 0.5 * (bus_w + np.concatenate(([bus_w[0]], bus_w[:-1]))) * dt_s / 3600.0
    dc_wh = 0.5 * (dc_w + np.concatenate(([dc_w[0]], dc_w[:-1]))) * dt_s / 3600.0
    air_c = series["air_temp_c"].to_numpy()
    ordinals, hours = local_days_and_hours(times, loads.timezone)
    first_ordinal = model.ordinal_at(begin_s)
    plans = [model.day_plan(o) for o in range(first_ordinal, int(ordinals[-1]) + 1)]
    start_of_day = np.concatenate(([True], ordinals[1:] != ordinals[:-1]))
    lo, hi = display_hours
    display_on = (hours >= lo) & (hours < hi) if lo <= hi else (hours >= lo) | (hours < hi)
    display_w = np.where(display_on, loads.display_w * controls.display_brightness_pct / 100.0, 0.0)
    edges_s = np.concatenate(([begin_s], at_s))

    # Ports: accepted sessions, energy per interval, power at each timestamp, arrivals per interval.
    kinds = [p.kind for p in loads.ports]
    port_wh, port_w, port_starts = [], [], []
    for i, port in enumerate(loads.ports):
        if controls.port_on(port.kind):
            starts, ends, powers = _sessions(plans, i, controls.port_power_cap_w(port.kind))
        else:
            starts = ends = powers = np.zeros(0)
        port_wh.append(np.diff(_cumulative_energy_wh(starts, ends, powers, edges_s)).tolist())
        port_w.append(_active_power_w(starts, ends, powers, at_s))
        port_starts.append(np.diff(np.searchsorted(starts, edges_s, side="right")).tolist())

    # Wi-Fi: clients are the sessions running at each instant, capped at max_clients.
    if controls.wifi_on:
        wifi_start = np.concatenate([np.asarray(p.wifi_start_s) for p in plans])
        wifi_end = np.sort(wifi_start + np.concatenate([np.asarray(p.wifi_duration_s) for p in plans]))
    else:
        wifi_start = wifi_end = np.zeros(0)
    clients = np.searchsorted(wifi_start, at_s, side="right") - np.searchsorted(wifi_end, at_s, side="right")
    clients = np.minimum(clients, controls.wifi_max_clients)
    wifi_new = np.diff(np.searchsorted(wifi_start, edges_s, side="right")).tolist()

    # Votes: visitors in the period answer the (fixed) open polls.
    votes: list[VoteDraw] = []
    polls = controls.open_polls[:MAX_POLLS_PER_VISITOR]
    for plan in plans:
        for t_s, draws in zip(plan.visitor_s, plan.visitor_draws, strict=True):
            if begin_s < t_s <= at_s[-1]:
                for j, poll in enumerate(polls):
                    if draws[j] < loads.vote_probability:
                        option = pick_option(poll.poll_id, poll.options, draws[MAX_POLLS_PER_VISITOR + j])
                        votes.append(VoteDraw(poll.poll_id, option, t_s))

    # Demand per interval with everything on; the loop recomputes it only while something may be shed.
    n = len(times)
    n_ports = len(kinds)
    hours_per_interval = dt_s / 3600.0
    port_wh_rows = np.asarray(port_wh, dtype=float).reshape(n_ports, n)
    router_wh = (
        (loads.router_w + loads.wifi_client_w * clients) * hours_per_interval if controls.wifi_on else 0.0 * dt_s
    )
    base_wh = (loads.controller_w + display_w) * hours_per_interval
    full_l = (base_wh + router_wh + port_wh_rows.sum(axis=0)).tolist()
    base_l, router_l = base_wh.tolist(), router_wh.tolist()
    port_l = [row.tolist() for row in port_wh_rows]

    # The sequential part: battery and shedding (plain floats and lists: it runs once per sample).
    state = BatteryState.new(spec, soc_pct, float(air_c[0]) + spec.enclosure_offset_c)
    initial_stored = stored_wh(state, spec)
    charge, capacity, discharged, age, temp = state.charge_ah, state.capacity_ah, 0.0, 0.0, state.temp_c
    thresholds = shedding or SheddingThresholds(0.0, 0.0, 0.0, 0.0)
    off_below = [getattr(thresholds, _SHED_BY[k]) for k in kinds]
    wifi_below = thresholds.wifi_below_pct
    on_above = thresholds.hysteresis_pct
    top = max([*off_below, wifi_below])  # above this, with nothing shed, nothing gets shed
    wifi_bit = 1 << n_ports
    code = 0  # bit k: port k is shed; bit n_ports: Wi-Fi is shed
    solar_l, dt_l, air_l = solar_wh.tolist(), dt_s.tolist(), air_c.tolist()
    rec_charge, rec_capacity, rec_temp, rec_bus, rec_demand, rec_served, rec_harvested, rec_loss, rec_stored = (
        [0.0] * n for _ in range(9)
    )
    rec_code = [0] * n
    for i in range(n):
        soc = 100.0 * charge / capacity
        if code or soc < top:  # shed below a threshold, restore above threshold + hysteresis
            new_code = 0
            demand = base_l[i]
            for k in range(n_ports):
                if soc < off_below[k] or (code >> k & 1 and soc < off_below[k] + on_above):
                    new_code |= 1 << k
                else:
                    demand += port_l[k][i]
            if soc < wifi_below or (code & wifi_bit and soc < wifi_below + on_above):
                new_code |= wifi_bit
            else:
                demand += router_l[i]
            code = new_code
        else:
            demand = full_l[i]
        rec_code[i] = code
        dt = dt_l[i]
        dt_h = dt / 3600.0
        solar = solar_l[i]
        charge, capacity, discharged, age, temp, bus, stored_delta, loss = battery_core(
            charge, capacity, discharged, age, temp, (solar - demand) / dt_h, dt, air_l[i], spec
        )
        battery_wh = bus * dt_h
        rec_charge[i], rec_capacity[i], rec_temp[i], rec_bus[i] = charge, capacity, temp, bus
        rec_demand[i], rec_loss[i], rec_stored[i] = demand, loss, stored_delta
        if battery_wh >= 0.0:
            rec_served[i], rec_harvested[i] = demand, demand + battery_wh
        else:
            rec_served[i], rec_harvested[i] = solar - battery_wh, solar

    harvested = np.asarray(rec_harvested)
    today = _daily_cumsum(harvested, start_of_day)
    soc_out = np.minimum(100.0 * np.asarray(rec_charge) / np.asarray(rec_capacity), 100.0)
    ocv = np.interp(soc_out, OCV_SOC_PCT, OCV_V)
    current = np.asarray(rec_bus) / ocv
    shed = ((np.asarray(rec_code, dtype=np.int64)[:, None] >> np.arange(n_ports + 1)) & 1).astype(bool)
    # A session that arrives while its port is shed walks away and is not counted.
    sessions = np.zeros((n, n_ports), dtype=np.int64)
    for k in range(n_ports):
        sessions[:, k] = _daily_cumsum(np.asarray(port_starts[k]) * ~shed[:, k], start_of_day)
    wifi_today = _daily_cumsum(np.asarray(wifi_new) * ~shed[:, -1], start_of_day).astype(np.int64)
    frame = pd.DataFrame(
        {
            "soc_pct": soc_out,
            "voltage_v": ocv + current * spec.internal_resistance_ohm,
            "current_a": current,
            "temp_c": np.asarray(rec_temp),
            "solar_power_w": harvested / hours_per_interval,
            "solar_available_w": bus_w,
            "energy_today_wh": today,
            "load_power_w": np.asarray(rec_served) / hours_per_interval,
            "wifi_clients": np.where(shed[:, -1], 0, clients),
            "wifi_sessions_today": wifi_today,
            "wifi_shed": shed[:, -1],
        },
        index=times,
    )
    for k, port in enumerate(loads.ports):
        running = np.where(shed[:, k], 0.0, port_w[k])
        frame[f"{port.port_id}.active"] = running > 0.0
        frame[f"{port.port_id}.power_w"] = running
        frame[f"{port.port_id}.sessions_today"] = sessions[:, k]
        frame[f"{port.port_id}.shed"] = shed[:, k]
    demand_total = math.fsum(rec_demand)
    served_total = math.fsum(rec_served)
    solar_total = float(solar_wh.sum())
    harvested_total = math.fsum(rec_harvested)
    ledger = EnergyLedger(
        pv_dc_wh=float(dc_wh.sum()),
        solar_available_wh=solar_total,
        solar_harvested_wh=harvested_total,
        curtailed_wh=solar_total - harvested_total,
        load_demand_wh=demand_total,
        load_served_wh=served_total,
        load_unserved_wh=demand_total - served_total,
        battery_loss_wh=math.fsum(rec_loss),
        battery_stored_delta_wh=math.fsum(rec_stored),
    )
    final = BatteryState(charge, capacity, discharged, age, temp)
    return Backfill(frame, tuple(votes), ledger, initial_stored, final)


@dataclass(frozen=True)
class YearlyYield:
    """Yearly energy of a site's panel (controller output, before any curtailment), kWh."""

    site: str
    year: int
    simulated_kwh: float
    """With the stochastic clouds."""
    clear_sky_kwh: float
    """Under a clear sky every day."""
    reference_kwh: float
    """Σ over months of clear-sky yield × that month's relative sunshine duration."""
    annual_fraction_reference_kwh: float
    """Clear-sky yield × annual sunshine hours / annual possible hours."""

    @property
    def ratio(self) -> float:
        """Simulated yield relative to the monthly sunshine-weighted reference."""
        return self.simulated_kwh / self.reference_kwh


def yearly_yield(
    site: Site,
    climate: SiteClimate,
    year: int,
    seed: int = 0,
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
    step_min: int = 15,
) -> YearlyYield:
    """Simulated versus clear-sky × sunshine-fraction yield of one site over a calendar year."""
    times = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq=f"{step_min}min", tz="UTC", inclusive="left")
    series = site_series(site, climate, times, seed, assumptions)
    hours = step_min / 60.0
    months = times.month.to_numpy() - 1
    monthly_clear_w = np.bincount(months, weights=series["solar_bus_clear_w"].to_numpy(), minlength=12)
    monthly_clear_kwh = monthly_clear_w * hours / 1000.0
    fraction = sunshine_fraction_by_month(climate, site.latitude_deg)
    annual_fraction = climate.sunshine_h_per_year / float(possible_sunshine_h_by_month(site.latitude_deg).sum())
    return YearlyYield(
        site=site.name,
        year=year,
        simulated_kwh=float(series["solar_bus_w"].sum() * hours / 1000.0),
        clear_sky_kwh=float(monthly_clear_kwh.sum()),
        reference_kwh=float((monthly_clear_kwh * fraction).sum()),
        annual_fraction_reference_kwh=float(monthly_clear_kwh.sum() * annual_fraction),
    )
