"""What a bench's panel would give under a clear sky: ``twins.solar``'s expectation, for the bench charts.

The panel is the one the bench reports (its ``panel_wp``), else the fleet's default panel, which is also
the panel the simulator simulates; so a simulated bench on a clear day meets its expectation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from twins.solar import DEFAULT_PANEL, Panel, clear_sky_energy_wh
from twins.solar import clear_sky_power_w as expected_power_w


def _panel(panel_wp: float | None) -> Panel:
    return DEFAULT_PANEL if panel_wp is None else replace(DEFAULT_PANEL, panel_wp=panel_wp)


def clear_sky_power_w(
    lat: float, lon: float, altitude_m: float, times: list[datetime], panel_wp: float | None
) -> list[float]:
    """Expected solar power at each (aware) time, W, rounded for the chart."""
    panel = _panel(panel_wp)
    return [round(expected_power_w(lat, lon, altitude_m, t, panel), 1) for t in times]


def clear_sky_daily_wh(
    lat: float, lon: float, altitude_m: float, days: list[datetime], panel_wp: float | None
) -> list[float]:
    """Expected energy of each day starting at the given instants, Wh."""
    panel = _panel(panel_wp)
    return [round(clear_sky_energy_wh(lat, lon, altitude_m, d, d + timedelta(days=1), panel), 0) for d in days]
