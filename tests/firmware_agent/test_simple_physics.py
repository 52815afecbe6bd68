"""The stand-alone physics of ``--hardware sim``: plausible day, battery balance, sane session rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_agent.hardware.simple_physics import SimplePhysics
from firmware_agent.hardware.simulated import SimulatedHardware
from twins.clock import ManualClock


def test_a_day_of_simple_physics() -> None:
    clock = ManualClock(datetime(2026, 6, 1, 0, 0, tzinfo=UTC))
    physics = SimplePhysics(panel_wp=200, battery_wh=1200, soc_pct=50, seed=3)
    hw = SimulatedHardware(physics, clock)
    socs, sessions = [], 0
    for _ in range(24 * 60 - 1):
        clock.advance(timedelta(minutes=1))
        socs.append(hw.read_battery().soc_pct)
        sessions += len(hw.finished_sessions())
    solar_today = hw.read_solar().energy_today_wh  # at 23:59, before the daily reset
    assert 400 < solar_today < 200 * 12  # some sun, never more than the panel at full power all day
    assert max(socs) > socs[6 * 60]  # charged during the day
    assert 5 <= sessions <= 4 * 24 * 2  # a few charging sessions per port and day, not one per second
    assert all(0 <= s <= 100 for s in socs)
