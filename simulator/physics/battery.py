"""12.8 V LiFePO4 battery: coulomb counting with efficiencies, C-rate limits, cold-charge inhibit and fade.

Sign convention: bus power and current are positive while charging and negative while discharging.
Charge is counted in ampere-hours at the nominal voltage, so stored energy is ``charge_ah × nominal_voltage_v``
and the energy bookkeeping closes exactly: bus energy = change in stored energy + conversion losses.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from simulator.physics.assumptions import BatteryAssumptions
from simulator.physics.errors import PhysicsError

SECONDS_PER_YEAR = 365.25 * 86400.0
_MIN_CAPACITY_FRAC = 0.1

# Open-circuit voltage of a 4S LiFePO4 pack at rest versus state of charge (typical manufacturer curve):
# flat between 20 % and 90 %, steep at both ends.
OCV_SOC_PCT: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 100.0)
OCV_V: tuple[float, ...] = (10.0, 12.0, 12.5, 12.9, 13.0, 13.05, 13.1, 13.15, 13.2, 13.25, 13.3, 13.35, 13.6)


def open_circuit_voltage_v(soc_pct: float) -> float:
    """Open-circuit voltage of the pack at a state of charge (%), V, by linear interpolation."""
    soc = min(max(soc_pct, 0.0), 100.0)
    i = min(max(bisect.bisect_right(OCV_SOC_PCT, soc) - 1, 0), len(OCV_SOC_PCT) - 2)
    x0, x1 = OCV_SOC_PCT[i], OCV_SOC_PCT[i + 1]
    return OCV_V[i] + (soc - x0) * (OCV_V[i + 1] - OCV_V[i]) / (x1 - x0)


@dataclass(frozen=True)
class BatteryState:
    """What the battery remembers between steps."""

    charge_ah: float
    """Charge held, Ah (0 … capacity_ah)."""
    capacity_ah: float
    """Present capacity after fade, Ah."""
    discharged_ah: float
    """Charge ever taken out, Ah (equivalent full cycles = discharged_ah / nominal Ah)."""
    age_s: float
    """Calendar age since the battery was new, s."""
    temp_c: float
    """Cell temperature, °C."""

    @property
    def soc_pct(self) -> float:
        """State of charge relative to the present capacity, %."""
        return min(100.0, 100.0 * self.charge_ah / self.capacity_ah)  # charge == capacity may round above

    @classmethod
    def new(cls, spec: BatteryAssumptions, soc_pct: float | None = None, temp_c: float = 15.0) -> BatteryState:
        """A new battery at ``soc_pct`` (default: the assumed initial state of charge)."""
        soc = spec.initial_soc_pct if soc_pct is None else soc_pct
        if not 0.0 <= soc <= 100.0:
            raise PhysicsError(f"soc_pct must be in [0, 100], got {soc}")
        capacity_ah = nominal_ah(spec)
        return cls(capacity_ah * soc / 100.0, capacity_ah, 0.0, 0.0, temp_c)


def stored_wh(state: BatteryState, spec: BatteryAssumptions) -> float:
    """Stored energy at the nominal voltage, Wh."""
    return state.charge_ah * spec.nominal_voltage_v


def nominal_ah(spec: BatteryAssumptions) -> float:
    """Nominal capacity, Ah."""
    return spec.capacity_wh / spec.nominal_voltage_v


def equivalent_full_cycles(state: BatteryState, spec: BatteryAssumptions) -> float:
    """Charge taken out so far divided by the nominal capacity (equivalent full cycles)."""
    return state.discharged_ah / nominal_ah(spec)


@dataclass(frozen=True)
class BatteryStep:
    """Result of one battery step."""

    state: BatteryState
    bus_power_w: float
    """Power actually taken from (+) or given to (−) the bus, W (average over the step)."""
    current_a: float
    """Battery current at the end of the step, A (+ charging)."""
    voltage_v: float
    """Terminal voltage at the end of the step, V."""
    stored_delta_wh: float
    """Change in stored energy, Wh."""
    loss_wh: float
    """Conversion losses (and charge lost to capacity fade when full), Wh."""


def limits_w(
    charge_ah: float, capacity_ah: float, temp_c: float, dt_s: float, spec: BatteryAssumptions
) -> tuple[float, float]:
    """Largest charge and discharge bus power for this step, W, from C-rates, taper, temperature and content."""
    dt_h = dt_s / 3600.0
    volts = spec.nominal_voltage_v
    soc_pct = 100.0 * charge_ah / capacity_ah
    charge_w = spec.max_charge_c_per_h * capacity_ah * volts
    if soc_pct > spec.taper_start_soc_pct:
        charge_w *= max(0.0, (100.0 - soc_pct) / (100.0 - spec.taper_start_soc_pct))
    if temp_c < spec.min_charge_temp_c:
        charge_w = 0.0
    room_w = max(0.0, capacity_ah - charge_ah) * volts / spec.charge_eff / dt_h
    content_w = max(0.0, charge_ah) * volts * spec.discharge_eff / dt_h
    discharge_w = min(spec.max_discharge_c_per_h * capacity_ah * volts, content_w)
    return min(charge_w, room_w), discharge_w


def battery_core(
    charge_ah: float,
    capacity_ah: float,
    discharged_ah: float,
    age_s: float,
    temp_c: float,
    power_w: float,
    dt_s: float,
    ambient_temp_c: float,
    spec: BatteryAssumptions,
) -> tuple[float, float, float, float, float, float, float, float]:
    """The battery step on plain floats (the fast path for long backfills).

    Returns (charge_ah, capacity_ah, discharged_ah, age_s, temp_c, bus_w, stored_delta_wh, loss_wh).
    """
    lag = 1.0 - math.exp(-dt_s / spec.thermal_time_constant_s)
    temp_c = temp_c + (ambient_temp_c + spec.enclosure_offset_c - temp_c) * lag
    dt_h = dt_s / 3600.0
    volts = spec.nominal_voltage_v
    # Only the limit in the direction of the flow is needed (limits_w computes both; this runs per sample).
    if power_w >= 0.0:
        max_charge_w = limits_w(charge_ah, capacity_ah, temp_c, dt_s, spec)[0] if power_w > 0.0 else 0.0
        max_discharge_w = 0.0
    else:
        max_charge_w = 0.0
        content_w = charge_ah * volts * spec.discharge_eff / dt_h if charge_ah > 0.0 else 0.0
        rate_w = spec.max_discharge_c_per_h * capacity_ah * volts
        max_discharge_w = content_w if content_w < rate_w else rate_w
    if power_w >= 0.0:
        bus_w = min(power_w, max_charge_w)
        stored_delta_wh = bus_w * dt_h * spec.charge_eff
        loss_wh = bus_w * dt_h - stored_delta_wh
    else:
        bus_w = -min(-power_w, max_discharge_w)
        stored_delta_wh = bus_w * dt_h / spec.discharge_eff
        loss_wh = bus_w * dt_h - stored_delta_wh
        discharged_ah -= stored_delta_wh / volts
    age_s += dt_s
    full_ah = spec.capacity_wh / volts
    cycle_fade = spec.fade_per_efc_frac * discharged_ah / full_ah
    fade = cycle_fade + spec.calendar_fade_per_year_frac * age_s / SECONDS_PER_YEAR
    new_capacity_ah = full_ah * max(_MIN_CAPACITY_FRAC, 1.0 - fade)
    wanted_ah = charge_ah + stored_delta_wh / volts
    new_charge_ah = min(max(wanted_ah, 0.0), new_capacity_ah)
    # Charge above the faded capacity is lost; book it as a loss so the energy balance still closes.
    faded_wh = (wanted_ah - new_charge_ah) * volts
    return (
        new_charge_ah,
        new_capacity_ah,
        discharged_ah,
        age_s,
        temp_c,
        bus_w,
        stored_delta_wh - faded_wh,
        loss_wh + faded_wh,
    )


def step_battery(
    state: BatteryState, power_w: float, dt_s: float, ambient_temp_c: float, spec: BatteryAssumptions
) -> BatteryStep:
    """Advance the battery by ``dt_s`` seconds with ``power_w`` offered (+) or demanded (−) at the bus.

    The battery accepts or delivers as much as its limits allow; the caller curtails the rest of the
    solar surplus or leaves the rest of the demand unserved. ``ambient_temp_c`` is the enclosure
    surroundings' (air) temperature; the cells follow it plus ``enclosure_offset_c`` with a first-order lag.
    """
    if not dt_s > 0.0 or math.isinf(dt_s):
        raise PhysicsError(f"dt_s must be a positive finite number of seconds, got {dt_s}")
    if math.isnan(power_w) or math.isnan(ambient_temp_c):
        raise PhysicsError(f"power_w and ambient_temp_c must be numbers, got {power_w}, {ambient_temp_c}")
    charge_ah, capacity_ah, discharged_ah, age_s, temp_c, bus_w, stored_delta_wh, loss_wh = battery_core(
        state.charge_ah,
        state.capacity_ah,
        state.discharged_ah,
        state.age_s,
        state.temp_c,
        power_w,
        dt_s,
        ambient_temp_c,
        spec,
    )
    ocv = open_circuit_voltage_v(100.0 * charge_ah / capacity_ah)
    current_a = bus_w / ocv
    return BatteryStep(
        state=BatteryState(charge_ah, capacity_ah, discharged_ah, age_s, temp_c),
        bus_power_w=bus_w,
        current_a=current_a,
        voltage_v=ocv + current_a * spec.internal_resistance_ohm,
        stored_delta_wh=stored_delta_wh,
        loss_wh=loss_wh,
    )
