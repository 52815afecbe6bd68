"""The simulated bench: switches change what the physics delivers; faults; sessions and counters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firmware_agent.hardware.base import HardwareError, WifiSettings
from firmware_agent.hardware.simulated import Faults, SimulatedHardware
from tests.firmware_agent.conftest import ScriptedPhysics


def test_switched_off_port_delivers_nothing_and_physics_sees_the_switch(clock) -> None:
    physics = ScriptedPhysics(demand_w={"usb-1": 7.5, "scooter-1": 120.0})
    hw = SimulatedHardware(physics, clock)
    hw.set_scooter_limit(70)
    ports = {p.id: p for p in hw.read_ports()}
    assert ports["usb-1"].power_w == 7.5
    assert ports["scooter-1"].power_w == 70.0  # capped at max_power_w
    hw.set_port("usb-1", False)
    clock.advance(timedelta(seconds=1))
    ports = {p.id: p for p in hw.read_ports()}
    assert ports["usb-1"].power_w == 0.0
    assert ports["usb-1"].active is False
    assert hw.loads().ports_on["usb-1"] is False
    assert hw.read_load().power_w == pytest.approx(2.5 + 6.0 + 3.0 + 70.0)


def test_sessions_are_counted_and_reported_when_they_end(clock) -> None:
    physics = ScriptedPhysics(demand_w={"usb-1": 10.0})
    hw = SimulatedHardware(physics, clock)
    hw.read_ports()
    clock.advance(timedelta(minutes=30))
    hw.read_ports()
    physics.demand_w = {}
    clock.advance(timedelta(minutes=30))
    sessions = hw.finished_sessions()
    assert len(sessions) == 1
    assert sessions[0].port_id == "usb-1"
    assert sessions[0].energy_wh == pytest.approx(10.0)  # 10 W for the hour the session was sampled
    assert {p.id: p.sessions_today for p in hw.read_ports()}["usb-1"] == 1
    assert hw.finished_sessions() == []


def test_wifi_limits_clients_and_counts_sessions(clock) -> None:
    physics = ScriptedPhysics(clients=12)
    hw = SimulatedHardware(physics, clock)
    hw.set_wifi(WifiSettings(enabled=True, ssid="Klupa", max_clients=8, session_minutes=30))
    assert hw.read_wifi().clients == 8
    hw.set_wifi(WifiSettings(enabled=False, ssid="Klupa", max_clients=8, session_minutes=30))
    clock.advance(timedelta(seconds=1))
    assert hw.read_wifi().clients == 0
    assert hw.read_wifi().sessions_today == 8


def test_injected_faults(clock) -> None:
    hw = SimulatedHardware(ScriptedPhysics(), clock, faults=Faults(fail_switch={"usb-2"}, dead_ports={"qi-1"}))
    with pytest.raises(HardwareError, match="usb-2"):
        hw.set_port("usb-2", False)
    hw.set_port("qi-1", True)  # a dead port switches "fine" but never reads active
    assert {p.id: p.active for p in hw.read_ports()}["qi-1"] is False
    hw.faults.wifi_broken = True
    with pytest.raises(HardwareError, match="wifi"):
        hw.set_wifi(WifiSettings(enabled=True, ssid="x", max_clients=1, session_minutes=1))
    with pytest.raises(HardwareError, match="no port"):
        hw.set_port("usb-9", True)


def test_physics_sampled_once_per_instant(clock) -> None:
    physics = ScriptedPhysics()
    hw = SimulatedHardware(physics, clock)
    hw.read_battery()
    hw.read_solar()
    hw.read_ports()
    assert physics.calls == 1
    clock.advance(timedelta(seconds=1))
    hw.read_battery()
    assert physics.calls == 2


def test_load_reported_is_what_the_physics_drained_when_it_says(clock) -> None:
    from dataclasses import replace

    from firmware_agent.hardware.simulated import PhysicsSample

    class Drained(ScriptedPhysics):
        def sample(self, now, loads) -> PhysicsSample:  # type: ignore[no-untyped-def]
            return replace(super().sample(now, loads), load_power_w=23.456)

    estimated = SimulatedHardware(ScriptedPhysics(demand_w={"usb-1": 7.5}), clock).read_load().power_w
    drained = SimulatedHardware(Drained(demand_w={"usb-1": 7.5}), clock).read_load().power_w
    assert drained == 23.46
    assert estimated != drained  # without the physics' figure the hardware estimates from its constants
