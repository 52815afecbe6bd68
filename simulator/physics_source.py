"""The bridge from the physics model to the simulated hardware: ``firmware_agent``'s PhysicsSource, with faults.

``SimulatedHardware`` asks ``sample(now, loads)`` with the switch state the agent chose; this steps the
bench's ``BenchModel`` to ``now`` under those switches (plus the kiosk's open polls), applies the faults
in force (soiled or snowy panel, degraded battery, dead port, frozen sensor) and hands the votes the
model's visitors cast to a callback (the runner records them through the agent's ``VoteBox``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from firmware_agent.hardware.base import PortInfo
from firmware_agent.hardware.simulated import LoadState, PhysicsSample
from simulator.physics.battery import SECONDS_PER_YEAR, BatteryState, nominal_ah, open_circuit_voltage_v
from simulator.physics.bench_model import BenchControls, BenchModel, BenchSample, BenchState
from simulator.physics.votes import PollSpec, VoteDraw
from simulator.physics.weather import SolarDay
from simulator.scenarios.effects import NO_EFFECTS, Effects
from twins.messages import BatteryReading, SolarReading


@dataclass(frozen=True)
class ScaledSolarDay(SolarDay):
    """A site's solar day seen through a soiled, snowy or shaded panel: every output scaled by ``factor``."""

    factor: float = 1.0
    base: SolarDay | None = None

    @classmethod
    def of(cls, day: SolarDay, factor: float) -> SolarDay:
        """``day`` scaled by ``factor`` (sharing its arrays; the unscaled day itself when factor is 1)."""
        base = day.base if isinstance(day, ScaledSolarDay) and day.base is not None else day
        if factor == 1.0:
            return base
        return cls(base.ordinal, base.start_s, base.end_s, base.bus_w, base.cum_bus_wh, base.cum_dc_wh,
                   base.air_temp_c, factor, base)  # fmt: skip

    def energy_wh(self, t0_s: float, t1_s: float) -> tuple[float, float]:
        """Scaled energy between two instants, Wh."""
        bus, dc = SolarDay.energy_wh(self, t0_s, t1_s)
        return bus * self.factor, dc * self.factor

    def bus_power_w(self, t_s: float) -> float:
        """Scaled controller output at an instant, W."""
        return SolarDay.bus_power_w(self, t_s) * self.factor


def aged_battery(battery: BatteryState, capacity_pct: float, model: BenchModel) -> BatteryState:
    """The battery aged until the model's own fade law leaves ``capacity_pct`` of nominal capacity.

    The battery model recomputes capacity from calendar age and cycles at every step, so a degraded
    battery is expressed as the calendar age that gives that capacity (charge above it is lost).
    """
    spec = model.assumptions.battery
    full_ah = nominal_ah(spec)
    cycle_fade = spec.fade_per_efc_frac * battery.discharged_ah / full_ah
    wanted_fade = 1.0 - capacity_pct / 100.0
    age_s = max(0.0, wanted_fade - cycle_fade) / spec.calendar_fade_per_year_frac * SECONDS_PER_YEAR
    capacity_ah = full_ah * (1.0 - max(wanted_fade, cycle_fade))
    return BatteryState(min(battery.charge_ah, capacity_ah), capacity_ah, battery.discharged_ah, age_s, battery.temp_c)


def physics_ports(model: BenchModel) -> tuple[PortInfo, ...]:
    """The charging ports the model simulates, as the hardware layer describes them."""
    return tuple(PortInfo(p.port_id, p.kind) for p in model.assumptions.loads.ports)  # type: ignore[arg-type]


class ModelPhysics:
    """One bench's physics, stepped only when the hardware is read at a new instant."""

    def __init__(
        self,
        model: BenchModel,
        start: datetime,
        open_polls: Callable[[datetime], tuple[PollSpec, ...]] = lambda _now: (),
        on_vote: Callable[[VoteDraw], None] = lambda _vote: None,
        soc_pct: float | None = None,
    ) -> None:
        self.model = model
        self.state: BenchState = model.initial_state(start, soc_pct)
        self.effects: Effects = NO_EFFECTS
        self.last: BenchSample | None = None
        self._open_polls = open_polls
        self._on_vote = on_vote
        self._kind_of = {p.port_id: p.kind for p in model.assumptions.loads.ports}
        self._capacity_pct: float | None = None
        self._frozen: dict[str, BatteryReading | SolarReading] = {}
        self._sample: PhysicsSample | None = None

    def _controls(self, loads: LoadState, now: datetime) -> BenchControls:
        kinds_on: dict[str, bool] = {}
        for port_id, on in loads.ports_on.items():
            kind = self._kind_of.get(port_id)
            if kind is not None:
                alive = on and port_id not in self.effects.dead_ports
                kinds_on[kind] = kinds_on.get(kind, False) or alive
        return BenchControls(
            usb_enabled=kinds_on.get("usb", False),
            wireless_enabled=kinds_on.get("wireless", False),
            scooter_enabled=kinds_on.get("scooter", False),
            scooter_max_power_w=loads.scooter_limit_w,
            wifi_enabled=loads.wifi_on,
            wifi_max_clients=loads.wifi_max_clients,
            display_on=loads.display_brightness_pct > 0,
            display_brightness_pct=float(loads.display_brightness_pct),
            open_polls=self._open_polls(now),
        )

    def _prepare(self) -> None:
        """Put the faults in force into the model state before a step."""
        state = self.state
        solar = ScaledSolarDay.of(state.solar, self.effects.solar_factor)
        if solar is not state.solar:
            state = replace(state, solar=solar)
        if self.effects.capacity_pct != self._capacity_pct and self.effects.capacity_pct is not None:
            state = replace(state, battery=aged_battery(state.battery, self.effects.capacity_pct, self.model))
            self._capacity_pct = self.effects.capacity_pct
        self.state = state

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """Step the model to ``now`` (once per instant) and return what the hardware measures."""
        if now.timestamp() <= self.state.t_s:
            # Read again at the same instant, or before the first step (a desired config arriving before
            # the first tick): never step here, so when a bench is stepped never depends on the network.
            if self._sample is None:
                self._sample = self._at_rest()
            return self._sample
        self._prepare()
        self.state, sample = self.model.step(self.state, now, self._controls(loads, now))
        self.last = sample
        for vote in sample.new_votes:
            self._on_vote(vote)
        battery = BatteryReading(
            soc_pct=round(min(100.0, max(0.0, sample.soc_pct)), 2),
            voltage_v=round(sample.voltage_v, 3),
            current_a=round(sample.current_a, 3),
            temp_c=round(sample.temp_c, 2),
        )
        solar = SolarReading(power_w=round(sample.solar_power_w, 1), energy_today_wh=round(sample.energy_today_wh, 1))
        battery = self._hold("battery", battery)  # type: ignore[assignment]
        solar = self._hold("solar", solar)  # type: ignore[assignment]
        self._sample = PhysicsSample(
            battery=battery,
            solar=solar,
            port_demand_w={p.port_id: p.power_w for p in sample.ports if p.active},
            wifi_clients_wanted=sample.wifi_clients,
            load_power_w=sample.load_power_w,
        )
        return self._sample

    def _at_rest(self) -> PhysicsSample:
        """What the sensors read at the initial state, before any step."""
        b = self.state.battery
        return PhysicsSample(
            battery=BatteryReading(
                soc_pct=round(b.soc_pct, 2),
                voltage_v=round(open_circuit_voltage_v(b.soc_pct), 3),
                current_a=0.0,
                temp_c=round(b.temp_c, 2),
            ),
            solar=SolarReading(power_w=0.0, energy_today_wh=0.0),
        )

    def _hold(self, sensor: str, reading: BatteryReading | SolarReading) -> BatteryReading | SolarReading:
        """A frozen sensor keeps returning the reading it had when it froze."""
        if sensor not in self.effects.frozen:
            self._frozen.pop(sensor, None)
            return reading
        return self._frozen.setdefault(sensor, reading)
