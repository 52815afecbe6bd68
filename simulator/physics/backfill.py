"""Vectorised history of one bench (backfill) and the yearly solar yield of a site.

The solar chain and usage arrivals are computed for all timestamps at once with numpy/pvlib; only the
battery and load shedding, which depend on the previous state of charge, run in one plain-float loop.
Differences from stepping ``BenchModel`` (stated simplifications): solar energy per interval is the
trapezoid of the sampled power; sessions are planned with the ports' configuration fixed for the whole
period; a shed port draws nothing while shed, but a brown-out does not cut sessions short.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, Assumptions, BatteryAssumptions, LoadAssumptions
from simulator.physics.battery import (
    _MIN_CAPACITY_FRAC,
    OCV_SOC_PCT,
    OCV_V,
    SECONDS_PER_YEAR,
    BatteryState,
    stored_wh,
)
from simulator.physics.bench_model import DEFAULT_CONTROLS, BenchControls, BenchModel
from simulator.physics.climate import SiteClimate, possible_sunshine_h_by_month, sunshine_fraction_by_month
from simulator.physics.errors import PhysicsError
from simulator.physics.ledger import EnergyLedger
from simulator.physics.loads import DayPlan
from simulator.physics.solar import Site
from simulator.physics.votes import VoteDraw, visitor_votes
from simulator.physics.weather import local_days_and_hours, site_series
from twins.config import DEFAULT_CONFIG_DOC, LoadSheddingConfig, ShedLoad
from twins.shedding import highest_threshold_pct, next_shed, port_shed, shed_bounds

DEFAULT_SHEDDING = LoadSheddingConfig.model_validate(DEFAULT_CONFIG_DOC["load_shedding"])
"""The shedding thresholds a new bench gets (the default desired config)."""


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


@dataclass(frozen=True)
class _Usage:
    """What people do over the period with everything switched on, per interval and per timestamp."""

    port_wh: list[list[float]]
    """Per port, energy its sessions draw in each interval, Wh."""
    port_w: list[np.ndarray]
    """Per port, power of the session running at each timestamp, W."""
    port_starts: list[np.ndarray]
    """Per port, sessions started in each interval."""
    wifi_clients: np.ndarray
    """Wi-Fi clients associated at each timestamp (capped at max_clients)."""
    wifi_new: np.ndarray
    """Wi-Fi sessions started in each interval."""


def _usage(plans: list[DayPlan], loads: LoadAssumptions, controls: BenchControls, edges_s: np.ndarray) -> _Usage:
    """Accepted port sessions and Wi-Fi associations of the day plans over the intervals ``edges_s``."""
    at_s = edges_s[1:]
    port_wh, port_w, port_starts = [], [], []
    for i, port in enumerate(loads.ports):
        if controls.port_on(port.kind):
            starts, ends, powers = _sessions(plans, i, controls.port_power_cap_w(port.kind))
        else:
            starts = ends = powers = np.zeros(0)
        port_wh.append(np.diff(_cumulative_energy_wh(starts, ends, powers, edges_s)).tolist())
        port_w.append(_active_power_w(starts, ends, powers, at_s))
        port_starts.append(np.diff(np.searchsorted(starts, edges_s, side="right")))
    # Wi-Fi: clients are the sessions running at each instant, capped at max_clients.
    if controls.wifi_on:
        wifi_start = np.concatenate([np.asarray(p.wifi_start_s) for p in plans])
        wifi_end = np.sort(wifi_start + np.concatenate([np.asarray(p.wifi_duration_s) for p in plans]))
    else:
        wifi_start = wifi_end = np.zeros(0)
    clients = np.searchsorted(wifi_start, at_s, side="right") - np.searchsorted(wifi_end, at_s, side="right")
    clients = np.minimum(clients, controls.wifi_max_clients)
    wifi_new = np.diff(np.searchsorted(wifi_start, edges_s, side="right"))
    return _Usage(port_wh, port_w, port_starts, clients, wifi_new)


def _votes(
    plans: list[DayPlan], begin_s: float, end_s: float, controls: BenchControls, probability: float
) -> list[VoteDraw]:
    """Votes of the visitors in (begin_s, end_s] for the (fixed) open polls."""
    votes: list[VoteDraw] = []
    for plan in plans:
        for t_s, draws in zip(plan.visitor_s, plan.visitor_draws, strict=True):
            if begin_s < t_s <= end_s:
                votes.extend(visitor_votes(t_s, draws, controls.open_polls, probability))
    return votes


@dataclass(frozen=True)
class _Run:
    """The sequential part's record: per timestamp, the battery, the energy booked and the loads shed."""

    charge_ah: list[float]
    capacity_ah: list[float]
    temp_c: list[float]
    bus_w: list[float]
    demand_wh: list[float]
    served_wh: list[float]
    harvested_wh: list[float]
    loss_wh: list[float]
    stored_wh: list[float]
    shed_code: list[int]
    """Per timestamp, the index in ``shed_sets`` of the loads shed."""
    shed_sets: list[frozenset[ShedLoad]]
    final: BatteryState


def _run_battery(
    state: BatteryState,
    spec: BatteryAssumptions,
    kinds: list[str],
    demand: tuple[list[float], list[list[float]], list[float]],
    solar_wh: list[float],
    dt_s: list[float],
    air_c: list[float],
    shedding: LoadSheddingConfig | None,
) -> _Run:
    """Battery and load shedding, one interval after the other (plain floats: it runs once per sample).

    ``demand`` is (electronics Wh, per-port Wh, router Wh) per interval; shedding follows the one rule
    (``twins.shedding``) at the state of charge at the start of each interval.

    The step is ``battery.battery_core`` written out inline, operation for operation (the same floats; min
    and max as the comparisons they make:
    ``tests/simulator/test_backfill_battery.py`` holds this loop equal to stepping ``battery_core``), and
    ``next_shed``'s answers are remembered per (current set, bounds below the charge): a 60 s year is
    525,600 steps, and the calls cost more than the arithmetic.
    """
    base_l, port_l, router_l = demand
    n = len(solar_wh)
    top = highest_threshold_pct(shedding) if shedding is not None else -1.0
    bounds = shed_bounds(shedding) if shedding is not None else ()
    # Ports and router each shed set leaves on, computed once per set (the rule yields at most four).
    shed_sets: list[frozenset[ShedLoad]] = [frozenset()]
    codes: dict[frozenset[ShedLoad], int] = {frozenset(): 0}
    on_sets: list[tuple[list[int], bool]] = [(list(range(len(kinds))), True)]
    answers: dict[tuple[int, int], int] = {}
    full = (np.asarray(base_l) + np.asarray(router_l) + np.asarray(port_l).reshape(len(kinds), n).sum(axis=0)).tolist()
    charge, capacity, discharged, age, temp = state.charge_ah, state.capacity_ah, 0.0, 0.0, state.temp_c
    code = 0
    rec_charge, rec_capacity, rec_temp, rec_bus, rec_demand, rec_served, rec_harvested, rec_loss, rec_stored = (
        [0.0] * n for _ in range(9)
    )
    rec_code = [0] * n
    # battery_core's constants, looked up once.
    volts = spec.nominal_voltage_v
    charge_eff, discharge_eff = spec.charge_eff, spec.discharge_eff
    max_charge_c, max_discharge_c = spec.max_charge_c_per_h, spec.max_discharge_c_per_h
    taper_start, min_charge_temp = spec.taper_start_soc_pct, spec.min_charge_temp_c
    offset_c, time_constant_s = spec.enclosure_offset_c, spec.thermal_time_constant_s
    full_ah = spec.capacity_wh / volts
    fade_per_efc, calendar_fade = spec.fade_per_efc_frac, spec.calendar_fade_per_year_frac
    lags: dict[float, float] = {}
    for i in range(n):
        soc = 100.0 * charge / capacity
        if shedding is not None and (code or soc < top):
            key = (code, bisect_right(bounds, soc))
            got = answers.get(key)
            if got is None:
                shed = next_shed(shed_sets[code], soc, shedding)
                got = codes.get(shed)
                if got is None:
                    got = codes[shed] = len(shed_sets)
                    shed_sets.append(shed)
                    ports_left = [k for k, kind in enumerate(kinds) if not port_shed(kind, shed)]
                    on_sets.append((ports_left, "wifi" not in shed))
                answers[key] = got
            code = got
        if code:
            ports_on, router_on = on_sets[code]
            demand_wh = base_l[i]
            for k in ports_on:
                demand_wh += port_l[k][i]
            if router_on:
                demand_wh += router_l[i]
        else:
            demand_wh = full[i]
        dt = dt_s[i]
        dt_h = dt / 3600.0
        solar = solar_wh[i]
        power_w = (solar - demand_wh) / dt_h
        # -- battery_core(charge, capacity, discharged, age, temp, power_w, dt, air_c[i], spec), inline --
        lag = lags.get(dt)
        if lag is None:
            lag = lags[dt] = 1.0 - math.exp(-dt / time_constant_s)
        temp = temp + (air_c[i] + offset_c - temp) * lag
        if power_w >= 0.0:
            if power_w > 0.0:  # limits_w(...)[0]
                soc_pct = 100.0 * charge / capacity
                charge_w = max_charge_c * capacity * volts
                if soc_pct > taper_start:
                    taper = (100.0 - soc_pct) / (100.0 - taper_start)
                    charge_w *= taper if taper > 0.0 else 0.0
                if temp < min_charge_temp:
                    charge_w = 0.0
                room_ah = capacity - charge
                room_w = (room_ah if room_ah > 0.0 else 0.0) * volts / charge_eff / dt_h
                max_charge_w = room_w if room_w < charge_w else charge_w
            else:
                max_charge_w = 0.0
            bus = max_charge_w if max_charge_w < power_w else power_w
            stored_delta = bus * dt_h * charge_eff
            loss = bus * dt_h - stored_delta
        else:
            content_w = charge * volts * discharge_eff / dt_h if charge > 0.0 else 0.0
            rate_w = max_discharge_c * capacity * volts
            max_discharge_w = content_w if content_w < rate_w else rate_w
            bus = -(max_discharge_w if max_discharge_w < -power_w else -power_w)
            stored_delta = bus * dt_h / discharge_eff
            loss = bus * dt_h - stored_delta
            discharged -= stored_delta / volts
        age += dt
        fade = fade_per_efc * discharged / full_ah + calendar_fade * age / SECONDS_PER_YEAR
        left = 1.0 - fade
        capacity = full_ah * (left if left > _MIN_CAPACITY_FRAC else _MIN_CAPACITY_FRAC)
        wanted_ah = charge + stored_delta / volts
        charge = 0.0 if wanted_ah < 0.0 else wanted_ah
        charge = capacity if capacity < charge else charge
        faded_wh = (wanted_ah - charge) * volts
        stored_delta -= faded_wh
        loss += faded_wh
        # -- split_energy(solar, demand_wh, bus * dt_h) --
        battery_wh = bus * dt_h
        if battery_wh >= 0.0:
            rec_served[i], rec_harvested[i] = demand_wh, demand_wh + battery_wh
        else:
            rec_served[i], rec_harvested[i] = solar - battery_wh, solar
        rec_charge[i], rec_capacity[i], rec_temp[i], rec_bus[i] = charge, capacity, temp, bus
        rec_demand[i], rec_loss[i], rec_stored[i], rec_code[i] = demand_wh, loss, stored_delta, code
    return _Run(
        rec_charge, rec_capacity, rec_temp, rec_bus, rec_demand, rec_served, rec_harvested, rec_loss, rec_stored,
        rec_code, shed_sets, BatteryState(charge, capacity, discharged, age, temp),
    )  # fmt: skip


def backfill(
    model: BenchModel,
    times: pd.DatetimeIndex,
    controls: BenchControls = DEFAULT_CONTROLS,
    shedding: LoadSheddingConfig | None = DEFAULT_SHEDDING,
    display_hours: tuple[int, int] = (6, 23),
    soc_pct: float | None = None,
) -> Backfill:
    """Simulate one bench over ``times`` (UTC, e.g. a year at 5 or 15 minutes) in one vectorised pass.

    ``controls`` hold for the whole period (its ``shed`` and ``display_on`` are ignored: shedding follows
    the ``shedding`` thresholds with the agent's rule, None sheds nothing; the display is lit from
    ``display_hours[0]`` to ``display_hours[1]`` local time).
    """
    assumptions = model.assumptions
    loads = assumptions.loads
    spec = assumptions.battery
    dt_s = _interval_s(times)
    at_s = times.as_unit("ns").asi8 / 1e9
    begin_s = at_s[0] - dt_s[0]
    edges_s = np.concatenate(([begin_s], at_s))
    # In nanoseconds: pvlib reads calendar fields (dayofyear, ...), which pandas 3 computes ~10x slower on a
    # microsecond index (what history_times makes); the instants and so the values are the same.
    series = site_series(model.site, model.climate, times.as_unit("ns"), model.weather_seed, assumptions)
    bus_w = series["solar_bus_w"].to_numpy()
    solar_wh = _trapezoid_wh(bus_w, dt_s)
    dc_wh = _trapezoid_wh(series["pv_dc_w"].to_numpy(), dt_s)
    air_c = series["air_temp_c"].to_numpy()
    ordinals, hours = local_days_and_hours(times, loads.timezone)
    plans = [model.day_plan(o) for o in range(model.ordinal_at(begin_s), int(ordinals[-1]) + 1)]
    start_of_day = np.concatenate(([True], ordinals[1:] != ordinals[:-1]))
    lo, hi = display_hours
    display_on = (hours >= lo) & (hours < hi) if lo <= hi else (hours >= lo) | (hours < hi)
    display_w = np.where(display_on, loads.display_w * controls.display_brightness_pct / 100.0, 0.0)
    usage = _usage(plans, loads, controls, edges_s)
    votes = _votes(plans, begin_s, float(at_s[-1]), controls, loads.vote_probability)

    # Demand per interval with everything on; the battery loop drops what is shed.
    hours_per_interval = dt_s / 3600.0
    router_wh = (loads.router_w + loads.wifi_client_w * usage.wifi_clients) * hours_per_interval
    if not controls.wifi_on:
        router_wh = 0.0 * dt_s
    base_wh = (loads.controller_w + display_w) * hours_per_interval
    kinds = [p.kind for p in loads.ports]
    initial = BatteryState.new(spec, soc_pct, float(air_c[0]) + spec.enclosure_offset_c)
    run = _run_battery(
        initial, spec, kinds, (base_wh.tolist(), usage.port_wh, router_wh.tolist()),
        solar_wh.tolist(), dt_s.tolist(), air_c.tolist(), shedding,
    )  # fmt: skip
    frame = _frame(times, loads, spec, run, usage, bus_w, hours_per_interval, start_of_day)
    solar_total = float(solar_wh.sum())
    ledger = EnergyLedger.of_flows(
        float(dc_wh.sum()), solar_total, math.fsum(run.harvested_wh), math.fsum(run.demand_wh),
        math.fsum(run.served_wh), math.fsum(run.loss_wh), math.fsum(run.stored_wh),
    )  # fmt: skip
    return Backfill(frame, tuple(votes), ledger, stored_wh(initial, spec), run.final)


def _trapezoid_wh(power_w: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """Energy of each interval from the power sampled at its two ends, Wh (the first repeats its end)."""
    result: np.ndarray = 0.5 * (power_w + np.concatenate(([power_w[0]], power_w[:-1]))) * dt_s / 3600.0
    return result


def _frame(
    times: pd.DatetimeIndex,
    loads: LoadAssumptions,
    spec: BatteryAssumptions,
    run: _Run,
    usage: _Usage,
    bus_w: np.ndarray,
    hours_per_interval: np.ndarray,
    start_of_day: np.ndarray,
) -> pd.DataFrame:
    """The telemetry columns of the history (units in the names)."""
    n_ports = len(loads.ports)
    harvested = np.asarray(run.harvested_wh)
    soc_out = np.minimum(100.0 * np.asarray(run.charge_ah) / np.asarray(run.capacity_ah), 100.0)
    ocv = np.interp(soc_out, OCV_SOC_PCT, OCV_V)
    current = np.asarray(run.bus_w) / ocv
    masks = np.asarray([[port_shed(p.kind, s) for p in loads.ports] + ["wifi" in s] for s in run.shed_sets], dtype=bool)
    shed = masks.reshape(len(run.shed_sets), n_ports + 1)[np.asarray(run.shed_code, dtype=np.intp)]
    frame = pd.DataFrame(
        {
            "soc_pct": soc_out,
            "voltage_v": ocv + current * spec.internal_resistance_ohm,
            "current_a": current,
            "temp_c": np.asarray(run.temp_c),
            "solar_power_w": harvested / hours_per_interval,
            "solar_available_w": bus_w,
            "energy_today_wh": _daily_cumsum(harvested, start_of_day),
            "load_power_w": np.asarray(run.served_wh) / hours_per_interval,
            "wifi_clients": np.where(shed[:, -1], 0, usage.wifi_clients),
            "wifi_sessions_today": _daily_cumsum(usage.wifi_new * ~shed[:, -1], start_of_day).astype(np.int64),
            "wifi_shed": shed[:, -1],
        },
        index=times,
    )
    for k, port in enumerate(loads.ports):
        running = np.where(shed[:, k], 0.0, usage.port_w[k])
        frame[f"{port.port_id}.active"] = running > 0.0
        frame[f"{port.port_id}.power_w"] = running
        # A session that arrives while its port is shed walks away and is not counted.
        sessions = _daily_cumsum(usage.port_starts[k] * ~shed[:, k], start_of_day)
        frame[f"{port.port_id}.sessions_today"] = sessions.astype(np.int64)
        frame[f"{port.port_id}.shed"] = shed[:, k]
    return frame


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
