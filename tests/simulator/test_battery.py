"""LiFePO4 battery: coulomb counting, efficiencies, C-rate limits, cold-charge inhibit, fade, OCV."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.physics.assumptions import BatteryAssumptions
from simulator.physics.battery import (
    BatteryState,
    equivalent_full_cycles,
    open_circuit_voltage_v,
    step_battery,
    stored_wh,
)
from simulator.physics.errors import PhysicsError

SPEC = BatteryAssumptions()
HOUR_S = 3600.0
# Ambient at which the cells sit at 20 °C (the enclosure adds its offset).
MILD_C = 20.0 - SPEC.enclosure_offset_c


def _at(soc_pct: float, temp_c: float = 20.0) -> BatteryState:
    return BatteryState.new(SPEC, soc_pct, temp_c)


def test_charging_counts_charge_with_the_charge_efficiency() -> None:
    step = step_battery(_at(50.0), 100.0, HOUR_S, MILD_C, SPEC)
    assert step.bus_power_w == pytest.approx(100.0)
    assert step.stored_delta_wh == pytest.approx(97.0)
    assert step.loss_wh == pytest.approx(3.0)
    assert step.state.soc_pct == pytest.approx(50.0 + 100.0 * 97.0 / 1280.0, rel=1e-4)
    assert step.current_a > 0.0
    assert step.voltage_v > open_circuit_voltage_v(step.state.soc_pct)  # IR rise while charging


def test_discharging_draws_more_than_delivered() -> None:
    step = step_battery(_at(50.0), -100.0, HOUR_S, MILD_C, SPEC)
    assert step.bus_power_w == pytest.approx(-100.0)
    assert step.stored_delta_wh == pytest.approx(-100.0 / 0.97)
    assert step.loss_wh == pytest.approx(100.0 / 0.97 - 100.0)
    assert step.current_a < 0.0
    assert step.state.discharged_ah == pytest.approx(100.0 / 0.97 / 12.8)


def test_no_charging_below_zero_celsius_but_discharging_still_works() -> None:
    frozen = BatteryState.new(SPEC, 50.0, -5.0)
    charge = step_battery(frozen, 100.0, 60.0, -5.0 - SPEC.enclosure_offset_c, SPEC)
    assert charge.state.temp_c < 0.0
    assert charge.bus_power_w == 0.0
    assert charge.state.charge_ah == frozen.charge_ah
    discharge = step_battery(frozen, -50.0, 60.0, -5.0 - SPEC.enclosure_offset_c, SPEC)
    assert discharge.bus_power_w == pytest.approx(-50.0)
    warm = step_battery(BatteryState.new(SPEC, 50.0, 1.0), 100.0, 60.0, 1.0 - SPEC.enclosure_offset_c, SPEC)
    assert warm.bus_power_w == pytest.approx(100.0)


def test_cell_temperature_follows_the_enclosure_with_a_lag() -> None:
    cold = BatteryState.new(SPEC, 50.0, 0.0)
    after_minute = step_battery(cold, 0.0, 60.0, 20.0, SPEC).state.temp_c
    after_day = step_battery(cold, 0.0, 86400.0, 20.0, SPEC).state.temp_c
    assert 0.0 < after_minute < 1.0
    assert after_day == pytest.approx(20.0 + SPEC.enclosure_offset_c, abs=0.01)


def test_c_rate_limits_are_respected() -> None:
    spec = dataclasses.replace(SPEC, max_charge_c_per_h=0.1, max_discharge_c_per_h=0.2)
    state = BatteryState.new(spec, 50.0, 20.0)
    charge = step_battery(state, 1000.0, 60.0, MILD_C, spec)
    assert charge.bus_power_w == pytest.approx(0.1 * 100.0 * 12.8)
    discharge = step_battery(state, -1000.0, 60.0, MILD_C, spec)
    assert discharge.bus_power_w == pytest.approx(-0.2 * 100.0 * 12.8)
    assert abs(discharge.current_a) <= 0.2 * 100.0 * 1.05  # current within the C-rate (OCV ≈ nominal)


def test_charge_tapers_near_full_and_never_exceeds_capacity() -> None:
    state = _at(97.5)
    tapered = step_battery(state, 600.0, 60.0, MILD_C, SPEC)
    assert tapered.bus_power_w == pytest.approx(0.5 * 100 * 12.8 * 0.5, rel=0.01)
    for _ in range(200):
        state = step_battery(state, 600.0, 600.0, MILD_C, SPEC).state
    assert state.charge_ah <= state.capacity_ah
    assert state.soc_pct == pytest.approx(100.0, abs=0.5)


def test_empty_battery_delivers_nothing_more() -> None:
    state = _at(1.0)
    step = step_battery(state, -500.0, HOUR_S, MILD_C, SPEC)
    assert step.state.charge_ah == pytest.approx(0.0, abs=1e-9)
    assert -step.bus_power_w == pytest.approx(0.01 * 1280.0 * 0.97, rel=1e-6)
    assert step_battery(step.state, -10.0, 60.0, MILD_C, SPEC).bus_power_w == 0.0


def test_cycling_fades_capacity_per_equivalent_full_cycle() -> None:
    state = _at(100.0)
    start_capacity = state.capacity_ah
    for _ in range(300):  # 300 full cycles: emptied at the 1 C limit, refilled in three hours at 0.5 C
        state = step_battery(state, -2000.0, HOUR_S, MILD_C, SPEC).state
        for _ in range(3):
            state = step_battery(state, 2000.0, HOUR_S, MILD_C, SPEC).state
    cycles = equivalent_full_cycles(state, SPEC)
    assert 250 < cycles < 310
    calendar = SPEC.calendar_fade_per_year_frac * state.age_s / (365.25 * 86400)
    expected = 100.0 * (1.0 - SPEC.fade_per_efc_frac * cycles - calendar)
    assert state.capacity_ah < start_capacity
    assert state.capacity_ah == pytest.approx(expected, rel=1e-6)


def test_calendar_fade_over_a_year_of_rest() -> None:
    state = _at(50.0)
    for _ in range(365):
        state = step_battery(state, 0.0, 86400.0, MILD_C, SPEC).state
    assert state.capacity_ah == pytest.approx(100.0 * (1.0 - 0.015 * 365 / 365.25), rel=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    soc=st.floats(0.0, 100.0),
    power=st.floats(-2000.0, 2000.0),
    dt=st.floats(1.0, 7200.0),
    ambient=st.floats(-20.0, 45.0),
)
def test_every_step_conserves_energy(soc: float, power: float, dt: float, ambient: float) -> None:
    state = BatteryState.new(SPEC, soc, ambient)
    step = step_battery(state, power, dt, ambient, SPEC)
    bus_wh = step.bus_power_w * dt / 3600.0
    assert bus_wh == pytest.approx(step.stored_delta_wh + step.loss_wh, abs=1e-9)
    assert stored_wh(step.state, SPEC) - stored_wh(state, SPEC) == pytest.approx(step.stored_delta_wh, abs=1e-9)
    assert step.loss_wh >= -1e-12
    assert 0.0 <= step.state.charge_ah <= step.state.capacity_ah
    assert abs(step.bus_power_w) <= abs(power) + 1e-9


def test_ocv_curve_is_monotonic_with_known_ends() -> None:
    assert open_circuit_voltage_v(0.0) == pytest.approx(10.0)
    assert open_circuit_voltage_v(100.0) == pytest.approx(13.6)
    assert open_circuit_voltage_v(50.0) == pytest.approx(13.1)
    values = [open_circuit_voltage_v(s) for s in range(0, 101)]
    assert values == sorted(values)
    assert open_circuit_voltage_v(150.0) == pytest.approx(13.6)


def test_bad_inputs_are_rejected_with_a_reason() -> None:
    with pytest.raises(PhysicsError, match="dt_s"):
        step_battery(_at(50.0), 10.0, 0.0, MILD_C, SPEC)
    with pytest.raises(PhysicsError, match="power_w"):
        step_battery(_at(50.0), float("nan"), 60.0, MILD_C, SPEC)
    with pytest.raises(PhysicsError, match="soc_pct"):
        BatteryState.new(SPEC, 120.0)
