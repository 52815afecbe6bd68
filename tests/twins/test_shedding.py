"""One load-shedding rule: the agent's outputs and the simulator's backfill switch alike on one battery trajectory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from firmware_agent.agent import BenchAgent
from firmware_agent.hardware.base import PortInfo
from firmware_agent.hardware.simulated import LoadState, PhysicsSample, SimulatedHardware
from simulator.memory_outbox import MemoryOutbox
from simulator.physics.backfill import DEFAULT_SHEDDING, backfill
from simulator.physics.bench_model import BenchControls, BenchModel
from simulator.physics.weather import SolarDayCache
from simulator.runner import MemoryConfigStore
from tests.simulator.physics_sites import seed_bench
from twins.clock import ManualClock
from twins.config import LoadSheddingConfig
from twins.messages import BatteryReading, SolarReading
from twins.shedding import SHED_BY_PORT_KIND, next_shed, port_shed

# A northern bench in early winter from a half-empty battery: it sheds every stage and recovers on sunny days.
TIMES = pd.date_range("2025-11-20", "2025-12-20", freq="15min", tz="UTC")
BENCH = seed_bench("prijedor-01")


@dataclass
class _Battery:
    """Physics whose state of charge is the backfill's, interval by interval."""

    soc_pct: float

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """The scripted battery, no sun, nobody charging."""
        return PhysicsSample(
            battery=BatteryReading(soc_pct=self.soc_pct, voltage_v=12.8, current_a=0.0, temp_c=5.0),
            solar=SolarReading(power_w=0.0, energy_today_wh=0.0),
        )


class _Offline:
    """A transport that never connects: the agent keeps everything in its outbox."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> int | None:
        return None

    def subscribe(self, topic: str, qos: int) -> None:
        return None

    def is_connected(self) -> bool:
        return False


def test_agent_outputs_and_backfill_switch_alike_on_one_battery_trajectory() -> None:
    model = BenchModel(BENCH.bench_id, BENCH.site, BENCH.climate, SolarDayCache(), weather_seed=3, usage_seed=3)
    history = backfill(model, TIMES, BenchControls(), soc_pct=45.0).frame
    # The backfill decides each interval's switching at the state of charge its interval starts with.
    soc_at_start = [45.0, *history["soc_pct"].tolist()[:-1]]
    ports = tuple(PortInfo(p.port_id, p.kind) for p in model.assumptions.loads.ports)  # type: ignore[arg-type]
    battery = _Battery(soc_at_start[0])
    clock = ManualClock(TIMES[0].to_pydatetime())
    hardware = SimulatedHardware(battery, clock, ports=ports)
    agent = BenchAgent(BENCH.bench_id, hardware.bench(), MemoryOutbox(), _Offline(), MemoryConfigStore(), "test-1.0.0")
    assert agent.config.load_shedding == DEFAULT_SHEDDING
    agent.start(clock.now())

    agent_switching, backfill_switching = [], []
    for i, when in enumerate(TIMES):
        clock.set(when.to_pydatetime())
        battery.soc_pct = soc_at_start[i]
        agent.tick(clock.now())
        agent_switching.append((*(not hardware.is_on(p.id) for p in ports), not hardware.wifi_settings.enabled))
        row = history.iloc[i]
        backfill_switching.append((*(bool(row[f"{p.id}.shed"]) for p in ports), bool(row["wifi_shed"])))

    assert agent_switching == backfill_switching
    # The trajectory is worth comparing: every stage was shed and restored, and the Qi pad never.
    shed_states = set(backfill_switching)
    assert (False, False, False, False) in shed_states
    assert (True, False, True, True) in shed_states  # usb, scooter and Wi-Fi off; qi-1 on
    assert all(not state[1] for state in shed_states)  # qi-1 is ports[1]


def test_only_the_contract_loads_are_shed() -> None:
    config = LoadSheddingConfig(scooter_below_pct=40, wifi_below_pct=25, usb_below_pct=15)
    everything = next_shed(frozenset(), 1.0, config)
    assert everything == {"scooter", "wifi", "usb"}
    assert {kind for kind in ("usb", "wireless", "scooter") if port_shed(kind, everything)} == {"usb", "scooter"}
    assert set(SHED_BY_PORT_KIND.values()) <= everything
