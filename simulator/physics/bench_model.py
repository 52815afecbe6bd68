"""One bench's energy model: solar, battery, electronics, charging ports, Wi-Fi and kiosk votes, stepped in time.

``BenchModel.step(state, now, controls)`` advances a frozen ``BenchState`` to ``now`` and returns the new
state and a ``BenchSample`` with every number a telemetry message needs. Solar comes from a shared
``SolarDayCache`` (one pvlib run per site and local day), usage from a per-bench, per-day plan drawn once,
so a step is plain float arithmetic: cheap enough for thousands of benches in one process.

Step semantics: arrivals inside a step are handled in order at step resolution (a port is free for an
arrival if its previous session ended before that arrival); controls apply to the whole step; if the battery
cannot carry the demand, the bench browns out (BMS cut-off): the unserved energy is booked and every port
session and Wi-Fi client is dropped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, Assumptions
from simulator.physics.battery import BatteryState, open_circuit_voltage_v, step_battery
from simulator.physics.climate import SiteClimate
from simulator.physics.errors import PhysicsError
from simulator.physics.ledger import EnergyLedger, split_energy
from simulator.physics.loads import DayPlan, PortDayPlan, base_load_w, plan_day
from simulator.physics.solar import Site
from simulator.physics.votes import PollSpec, VoteDraw, visitor_votes
from simulator.physics.weather import SolarDay, SolarDayCache, local_day_bounds_s

_UNSERVED_TOLERANCE_WH = 1e-9


@dataclass(frozen=True)
class BenchControls:
    """What the bench's configuration and load shedding allow during a step.

    ``shed`` holds the kinds switched off by load shedding (``scooter``, ``wifi``, ``usb``, ``wireless``);
    a port or the Wi-Fi runs only if it is enabled and not shed.
    """

    usb_enabled: bool = True
    wireless_enabled: bool = True
    scooter_enabled: bool = True
    scooter_max_power_w: float = 70.0
    wifi_enabled: bool = True
    wifi_max_clients: int = 50
    display_on: bool = True
    display_brightness_pct: float = 80.0
    open_polls: tuple[PollSpec, ...] = ()
    shed: frozenset[str] = frozenset()

    def port_on(self, kind: str) -> bool:
        """Whether ports of this kind may run."""
        enabled = {"usb": self.usb_enabled, "wireless": self.wireless_enabled, "scooter": self.scooter_enabled}
        if kind not in enabled:
            raise PhysicsError(f"unknown port kind {kind!r}; expected one of {', '.join(enabled)}")
        return enabled[kind] and kind not in self.shed

    @property
    def wifi_on(self) -> bool:
        """Whether the Wi-Fi access point runs."""
        return self.wifi_enabled and "wifi" not in self.shed

    def port_power_cap_w(self, kind: str) -> float:
        """Largest power a port of this kind may draw, W (only the scooter port has a configurable cap)."""
        return self.scooter_max_power_w if kind == "scooter" else float("inf")


DEFAULT_CONTROLS = BenchControls()


@dataclass(frozen=True)
class PortState:
    """One port between steps."""

    session_start_s: float
    session_end_s: float
    """End of the running session, UTC epoch s (≤ now when idle)."""
    power_w: float
    session_energy_wh: float
    sessions_today: int
    cursor: int
    """Index of the next planned arrival in today's plan."""


@dataclass(frozen=True)
class BenchState:
    """Everything a bench remembers between steps."""

    t_s: float
    """Time of the last step, UTC epoch s."""
    battery: BatteryState
    plan: DayPlan
    solar: SolarDay
    """The site's solar day of ``plan`` (kept here so a step needs no cache look-up)."""
    ports: tuple[PortState, ...]
    wifi_end_s: tuple[float, ...]
    """End instants of the accepted Wi-Fi sessions still running."""
    wifi_cursor: int
    wifi_sessions_today: int
    visitor_cursor: int
    energy_today_wh: float
    """Solar energy harvested since local midnight, Wh."""
    ledger: EnergyLedger


@dataclass(frozen=True)
class PortSample:
    """One port in a telemetry sample."""

    port_id: str
    kind: str
    active: bool
    power_w: float
    sessions_today: int


@dataclass(frozen=True)
class FinishedSession:
    """A charging session that ended during the step (for ``port_session`` events)."""

    port_id: str
    kind: str
    start_s: float
    end_s: float
    energy_wh: float


@dataclass(frozen=True)
class BenchSample:
    """Everything a telemetry sample needs, at the end of a step.

    Solar and load powers are averages over the step (so they integrate to the step's energy); port
    powers and ``active`` are the state at the end of the step; current is + while charging.
    """

    t_s: float
    soc_pct: float
    voltage_v: float
    current_a: float
    temp_c: float
    solar_power_w: float
    energy_today_wh: float
    load_power_w: float
    ports: tuple[PortSample, ...]
    wifi_clients: int
    wifi_sessions_today: int
    new_votes: tuple[VoteDraw, ...]
    finished_sessions: tuple[FinishedSession, ...]
    brownout: bool
    """The battery could not carry the demand at some point of the step."""


def _epoch_s(now: datetime | float) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise PhysicsError("now must be timezone-aware (UTC); got a naive datetime")
        return now.timestamp()
    return float(now)


@dataclass
class _Segment:
    """Mutable scratch totals of one step (local to a call; never escapes)."""

    load_wh: float = 0.0
    harvested_wh: float = 0.0
    brownout: bool = False
    votes: list[VoteDraw] = field(default_factory=list)
    finished: list[FinishedSession] = field(default_factory=list)
    current_a: float = 0.0
    voltage_v: float = 0.0


@dataclass(frozen=True)
class BenchModel:
    """The physics of one bench at one site (all inputs and seeds fixed, so runs are reproducible)."""

    bench_id: str
    site: Site
    climate: SiteClimate
    solar: SolarDayCache = field(compare=False, repr=False)
    """Shared cache of site-days; give every bench of a process the same one."""
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS
    weather_seed: int = 0
    """Seed of the site's weather (benches at the same site and seed see the same clouds)."""
    usage_seed: int = 0
    """Seed of this bench's usage (combined with the bench id)."""

    def ordinal_at(self, t_s: float) -> int:
        """Local date ordinal of an instant."""
        zone = ZoneInfo(self.assumptions.loads.timezone)
        return datetime.fromtimestamp(t_s, zone).date().toordinal()

    def solar_day(self, ordinal: int) -> SolarDay:
        """The site's solar day from the shared cache."""
        return self.solar.get(self.site, self.climate, ordinal, self.weather_seed, self.assumptions)

    def day_plan(self, ordinal: int) -> DayPlan:
        """This bench's usage plan for a local day."""
        start_s, end_s = local_day_bounds_s(ordinal, self.assumptions.loads.timezone)
        return plan_day(self.bench_id, self.usage_seed, ordinal, start_s, end_s, self.assumptions.loads)

    def initial_state(self, now: datetime | float, soc_pct: float | None = None) -> BenchState:
        """A bench with a new battery at ``soc_pct`` (default: assumed initial state of charge) at ``now``."""
        t_s = _epoch_s(now)
        plan = self.day_plan(self.ordinal_at(t_s))
        spec = self.assumptions.battery
        solar = self.solar_day(plan.ordinal)
        air_c = solar.air_temp_at_c(t_s)
        ports = tuple(PortState(0.0, 0.0, 0.0, 0.0, 0, bisect.bisect_right(p.start_s, t_s)) for p in plan.ports)
        return BenchState(
            t_s=t_s,
            battery=BatteryState.new(spec, soc_pct, air_c + spec.enclosure_offset_c),
            plan=plan,
            solar=solar,
            ports=ports,
            wifi_end_s=(),
            wifi_cursor=bisect.bisect_right(plan.wifi_start_s, t_s),
            wifi_sessions_today=0,
            visitor_cursor=bisect.bisect_right(plan.visitor_s, t_s),
            energy_today_wh=0.0,
            ledger=EnergyLedger(),
        )

    def step(
        self, state: BenchState, now: datetime | float, controls: BenchControls = DEFAULT_CONTROLS
    ) -> tuple[BenchState, BenchSample]:
        """Advance the bench from ``state.t_s`` to ``now`` under ``controls``; split at local midnight."""
        t1 = _epoch_s(now)
        if not t1 > state.t_s:
            raise PhysicsError(f"now ({t1}) must be after the state's time ({state.t_s})")
        t0 = state.t_s
        scratch = _Segment()
        while state.t_s < t1:
            if state.t_s >= state.plan.end_s:
                state = self._new_day(state)
            state = self._advance(state, min(t1, state.plan.end_s), controls, scratch)
        return state, self._sample(state, t0, t1, scratch)

    def _new_day(self, state: BenchState) -> BenchState:
        plan = self.day_plan(self.ordinal_at(state.t_s))
        ports = tuple(
            PortState(p.session_start_s, p.session_end_s, p.power_w, p.session_energy_wh, 0, 0) for p in state.ports
        )
        solar = self.solar_day(plan.ordinal)
        return BenchState(state.t_s, state.battery, plan, solar, ports, state.wifi_end_s, 0, 0, 0, 0.0, state.ledger)

    def _advance(self, state: BenchState, t1: float, controls: BenchControls, scratch: _Segment) -> BenchState:
        """Advance within one local day: arrivals, then the energy balance, then a brown-out if any."""
        t0 = state.t_s
        dt_s = t1 - t0
        dt_h = dt_s / 3600.0
        plan = state.plan
        port_wh = 0.0
        ports: list[PortState] = []
        for port_plan, port in zip(plan.ports, state.ports, strict=True):
            new_port, drawn_wh = _step_port(port_plan, port, t0, t1, controls, scratch.finished)
            ports.append(new_port)
            port_wh += drawn_wh
        wifi_ends, wifi_cursor, wifi_count = _step_wifi(state, plan, t1, controls)
        visitor_cursor = state.visitor_cursor
        while visitor_cursor < len(plan.visitor_s) and plan.visitor_s[visitor_cursor] <= t1:
            scratch.votes.extend(
                visitor_votes(
                    plan.visitor_s[visitor_cursor],
                    plan.visitor_draws[visitor_cursor],
                    controls.open_polls,
                    self.assumptions.loads.vote_probability,
                )
            )
            visitor_cursor += 1
        # Energy: solar at the bus against the demand; the battery takes or gives the difference.
        base_w = base_load_w(
            self.assumptions.loads, controls.wifi_on, len(wifi_ends), controls.display_on,
            controls.display_brightness_pct,
        )  # fmt: skip
        demand_wh = base_w * dt_h + port_wh
        day = state.solar
        solar_wh, dc_wh = day.energy_wh(t0, t1)
        battery = step_battery(
            state.battery, (solar_wh - demand_wh) / dt_h, dt_s, day.air_temp_at_c(t1), self.assumptions.battery
        )
        served_wh, harvested_wh = split_energy(solar_wh, demand_wh, battery.bus_power_w * dt_h)
        brownout = demand_wh - served_wh > _UNSERVED_TOLERANCE_WH
        if brownout:  # BMS cut-off: every session and client is dropped
            ports = _drop_sessions(plan, ports, t1, scratch.finished)
            wifi_ends = []
        ledger = state.ledger + EnergyLedger.of_flows(
            dc_wh, solar_wh, harvested_wh, demand_wh, served_wh, battery.loss_wh, battery.stored_delta_wh
        )
        scratch.load_wh += served_wh
        scratch.harvested_wh += harvested_wh
        scratch.brownout = scratch.brownout or brownout
        scratch.current_a = battery.current_a
        scratch.voltage_v = battery.voltage_v
        return BenchState(
            t_s=t1,
            battery=battery.state,
            plan=plan,
            solar=day,
            ports=tuple(ports),
            wifi_end_s=tuple(wifi_ends),
            wifi_cursor=wifi_cursor,
            wifi_sessions_today=wifi_count,
            visitor_cursor=visitor_cursor,
            energy_today_wh=state.energy_today_wh + harvested_wh,
            ledger=ledger,
        )

    def _sample(self, state: BenchState, t0: float, t_s: float, scratch: _Segment) -> BenchSample:
        """Build the telemetry sample at the end of a step that began at ``t0``."""
        dt_h = (t_s - t0) / 3600.0
        ports = tuple(
            PortSample(
                port_id=p.port.port_id,
                kind=p.port.kind,
                active=s.session_end_s > t_s,
                power_w=s.power_w if s.session_end_s > t_s else 0.0,
                sessions_today=s.sessions_today,
            )
            for p, s in zip(state.plan.ports, state.ports, strict=True)
        )
        battery = state.battery
        return BenchSample(
            t_s=t_s,
            soc_pct=battery.soc_pct,
            voltage_v=scratch.voltage_v or open_circuit_voltage_v(battery.soc_pct),
            current_a=scratch.current_a,
            temp_c=battery.temp_c,
            solar_power_w=scratch.harvested_wh / dt_h,
            energy_today_wh=state.energy_today_wh,
            load_power_w=scratch.load_wh / dt_h,
            ports=ports,
            wifi_clients=len(state.wifi_end_s),
            wifi_sessions_today=state.wifi_sessions_today,
            new_votes=tuple(scratch.votes),
            finished_sessions=tuple(scratch.finished),
            brownout=scratch.brownout,
        )


def _step_port(
    port_plan: PortDayPlan,
    port: PortState,
    t0: float,
    t1: float,
    controls: BenchControls,
    finished: list[FinishedSession],
) -> tuple[PortState, float]:
    """One port over [t0, t1]: planned arrivals in order, and the energy it draws, Wh."""
    kind = port_plan.port.kind
    port_id = port_plan.port.port_id
    on = controls.port_on(kind)
    cap_w = controls.port_power_cap_w(kind)
    start, end, power, energy = port.session_start_s, port.session_end_s, port.power_w, port.session_energy_wh
    count, cursor = port.sessions_today, port.cursor
    drawn_wh = 0.0
    if end > t0 and not on:  # switched off mid-session: it ends now
        finished.append(FinishedSession(port_id, kind, start, t0, energy))
        end = t0
    starts = port_plan.start_s
    while cursor < len(starts) and starts[cursor] <= t1:
        arrival = starts[cursor]
        if on and end <= arrival:
            if end > t0:  # the previous session ended inside this step
                energy += power * (end - max(start, t0)) / 3600.0
                finished.append(FinishedSession(port_id, kind, start, end, energy))
                drawn_wh += power * (end - max(start, t0)) / 3600.0
            start, end = arrival, arrival + port_plan.duration_s[cursor]
            power, energy = min(port_plan.power_w[cursor], cap_w), 0.0
            count += 1
        cursor += 1
    if end > t0:
        running_wh = power * (min(end, t1) - max(start, t0)) / 3600.0
        drawn_wh += running_wh
        energy += running_wh
        if end <= t1:
            finished.append(FinishedSession(port_id, kind, start, end, energy))
    return PortState(start, end, power, energy, count, cursor), drawn_wh


def _step_wifi(state: BenchState, plan: DayPlan, t1: float, controls: BenchControls) -> tuple[list[float], int, int]:
    """Wi-Fi up to ``t1``: (end instants of running sessions, plan cursor, sessions today).

    Associations beyond max_clients are refused; switching the access point off drops everyone.
    """
    wifi_on = controls.wifi_on
    wifi_ends = [e for e in state.wifi_end_s if e > state.t_s] if wifi_on else []
    wifi_cursor, wifi_count = state.wifi_cursor, state.wifi_sessions_today
    wifi_starts = plan.wifi_start_s
    while wifi_cursor < len(wifi_starts) and wifi_starts[wifi_cursor] <= t1:
        arrival = wifi_starts[wifi_cursor]
        if wifi_on:
            wifi_ends = [e for e in wifi_ends if e > arrival]
            if len(wifi_ends) < controls.wifi_max_clients:
                wifi_ends.append(arrival + plan.wifi_duration_s[wifi_cursor])
                wifi_count += 1
        wifi_cursor += 1
    return [e for e in wifi_ends if e > t1], wifi_cursor, wifi_count


def _drop_sessions(
    plan: DayPlan, ports: list[PortState], t1: float, finished: list[FinishedSession]
) -> list[PortState]:
    """A brown-out at ``t1``: every running port session ends there."""
    dropped: list[PortState] = []
    for port_plan, port in zip(plan.ports, ports, strict=True):
        if port.session_end_s > t1:
            finished.append(
                FinishedSession(
                    port_plan.port.port_id, port_plan.port.kind, port.session_start_s, t1, port.session_energy_wh
                )
            )
            port = PortState(
                port.session_start_s, t1, port.power_w, port.session_energy_wh, port.sessions_today, port.cursor
            )
        dropped.append(port)
    return dropped
