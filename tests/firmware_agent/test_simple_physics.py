"""The stand-alone physics of ``--hardware sim``: clear-sky day on the fleet's panel, battery balance, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firmware_agent.hardware.factory import build_bench, parse_hardware_spec
from firmware_agent.hardware.simple_physics import DEFAULT_SITE, SimplePhysics
from firmware_agent.hardware.simulated import SimulatedHardware
from twins.clock import ManualClock
from twins.solar import DEFAULT_PANEL, clear_sky_energy_wh

MIDNIGHT = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def test_a_day_of_simple_physics() -> None:
    clock = ManualClock(MIDNIGHT)
    physics = SimplePhysics(battery_wh=1200, soc_pct=50, seed=3)
    hw = SimulatedHardware(physics, clock)
    socs, sessions = [], 0
    for _ in range(24 * 60 - 1):
        clock.advance(timedelta(minutes=1))
        socs.append(hw.read_battery().soc_pct)
        sessions += len(hw.finished_sessions())
    solar_today = hw.read_solar().energy_today_wh  # at 23:59, before the daily reset
    # The sun is the clear-sky expectation of the fleet's panel, the one the dashboard draws.
    expected = clear_sky_energy_wh(*DEFAULT_SITE, MIDNIGHT, MIDNIGHT + timedelta(days=1), DEFAULT_PANEL)
    assert solar_today == pytest.approx(expected, rel=0.02)
    assert max(socs) > socs[6 * 60]  # charged during the day
    assert 5 <= sessions <= 4 * 24 * 2  # a few charging sessions per port and day, not one per second
    assert all(0 <= s <= 100 for s in socs)


def test_simulated_hardware_reports_the_panel() -> None:
    bench = build_bench(parse_hardware_spec("sim"), ManualClock(MIDNIGHT))
    assert bench.info.panel_wp == DEFAULT_PANEL.panel_wp
