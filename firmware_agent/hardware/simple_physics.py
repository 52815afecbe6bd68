"""A small stand-alone physics source for ``--hardware sim`` when no simulator model is plugged in.

Clear-sky sun on the fleet's panel (``twins.solar``, the same expectation the dashboard draws), a battery
integrated in watt-hours and a few users plugging in. The real simulator replaces it with its pvlib
model with clouds; this one only has to be plausible and cheap.
"""

from __future__ import annotations

import math
import random
from datetime import datetime

from twins.messages import BatteryReading, SolarReading
from twins.solar import DEFAULT_PANEL, Panel, clear_sky_power_w

from .simulated import BASE_LOAD_W, WIFI_LOAD_W, LoadState, PhysicsSample

#: Where a stand-alone simulated bench stands (latitude, longitude in degrees, altitude in m): Sarajevo.
DEFAULT_SITE = (43.856, 18.413, 520.0)


class SimplePhysics:
    """Clear-sky sun on the panel, a lithium battery and random phone/scooter charging."""

    def __init__(
        self,
        panel: Panel = DEFAULT_PANEL,
        battery_wh: float = 1200.0,
        soc_pct: float = 80.0,
        seed: int = 1,
        site: tuple[float, float, float] = DEFAULT_SITE,
    ) -> None:
        self.panel = panel
        self.site = site
        self.battery_wh = battery_wh
        self._energy_wh = battery_wh * soc_pct / 100
        self._rng = random.Random(seed)
        self._last: datetime | None = None
        self._yield_wh = 0.0
        self._demand: dict[str, float] = {}

    def _solar_w(self, now: datetime) -> float:
        lat, lon, altitude_m = self.site
        return clear_sky_power_w(lat, lon, altitude_m, now, self.panel)

    def _users(self, loads: LoadState, hours: float) -> dict[str, float]:
        # Arrivals ~1.5 per hour per port while free; a phone charges ~40 min, a scooter ~2 h.
        for port_id in loads.ports_on:
            busy = self._demand.get(port_id, 0.0) > 0
            scooter = port_id.startswith("scooter")
            rate_per_h = (1 / (2.0 if scooter else 0.66)) if busy else 1.5
            if self._rng.random() < 1 - math.exp(-rate_per_h * hours):
                self._demand[port_id] = 0.0 if busy else (self._rng.uniform(40, 90) if scooter else 7.5)
        return dict(self._demand)

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """Integrate the battery since the previous call and return the new state."""
        solar_w = self._solar_w(now)
        hours = max(0.0, (now - self._last).total_seconds() / 3600) if self._last else 0.0
        demand = self._users(loads, hours)
        drawn = sum(w for p, w in demand.items() if loads.ports_on.get(p))
        load_w = BASE_LOAD_W + (WIFI_LOAD_W if loads.wifi_on else 0.0) + drawn
        if self._last is not None and now.date() != self._last.date():
            self._yield_wh = 0.0
        self._last = now
        self._yield_wh += solar_w * hours
        self._energy_wh = min(self.battery_wh, max(0.0, self._energy_wh + (solar_w - load_w) * hours))
        soc = 100 * self._energy_wh / self.battery_wh
        voltage = 12.0 + 1.6 * soc / 100
        return PhysicsSample(
            battery=BatteryReading(
                soc_pct=round(soc, 2),
                voltage_v=round(voltage, 3),
                current_a=round((solar_w - load_w) / voltage, 3),
                temp_c=20.0,
            ),
            solar=SolarReading(power_w=round(solar_w, 1), energy_today_wh=round(self._yield_wh, 1)),
            port_demand_w=demand,
            wifi_clients_wanted=self._rng.randint(0, 8) if solar_w > 0 else self._rng.randint(0, 2),
        )
