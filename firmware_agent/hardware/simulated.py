"""Simulated bench hardware: a state holder for switches and counters, fed by an injected physics source.

The physics (sun, battery, people plugging in) is not modelled here: a ``PhysicsSource`` tells what the
world would draw and deliver at a given time and switch state, and this module applies what the bench
itself decides - which relays are closed, the scooter cap, the Wi-Fi client limit - and counts sessions.
Failure injection (a relay that refuses to switch, a dead port, a broken access point) serves the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from twins.clock import Clock
from twins.messages import (
    BatteryReading,
    HardwareInfo,
    LoadReading,
    PortReading,
    PortSessionData,
    SolarReading,
    TamperData,
    WifiReading,
)

from .base import Bench, DisplaySettings, HardwareError, PortInfo, WifiSettings

#: Ports of a standard bench: two USB, one Qi pad, one e-scooter socket.
DEFAULT_PORTS: tuple[PortInfo, ...] = (
    PortInfo("usb-1", "usb"),
    PortInfo("usb-2", "usb"),
    PortInfo("qi-1", "wireless"),
    PortInfo("scooter-1", "scooter"),
)
# Consumption of the bench's own electronics (W): controller board, access point, backlight at 100 %.
BASE_LOAD_W = 2.5
WIFI_LOAD_W = 3.0
DISPLAY_FULL_W = 6.0


@dataclass(frozen=True, slots=True)
class LoadState:
    """What the bench has switched on, handed to the physics so consumption follows the switches."""

    ports_on: Mapping[str, bool]
    scooter_limit_w: float
    wifi_on: bool
    wifi_max_clients: int
    display_brightness_pct: int


@dataclass(frozen=True, slots=True)
class PhysicsSample:
    """The world at one instant: battery and sun, and what users would draw if the bench lets them."""

    battery: BatteryReading
    solar: SolarReading
    port_demand_w: Mapping[str, float] = field(default_factory=dict)
    wifi_clients_wanted: int = 0
    tamper: tuple[TamperData, ...] = ()
    load_power_w: float | None = None
    """Total draw as the physics computed it; None lets the hardware estimate it from its own constants."""


class PhysicsSource(Protocol):
    """The simulator's model of one bench (or a test script) queried at each read."""

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """Return the state of the world at ``now`` given the bench's current switches."""
        ...


@dataclass
class _Session:
    started: datetime
    energy_wh: float = 0.0


@dataclass
class Faults:
    """Injected faults: relays that raise when switched, dead ports, a broken access point or display."""

    fail_switch: set[str] = field(default_factory=set)
    dead_ports: set[str] = field(default_factory=set)
    wifi_broken: bool = False
    display_broken: bool = False


class SimulatedHardware:
    """All device roles of one simulated bench; implements every Protocol of ``hardware.base``."""

    def __init__(
        self,
        physics: PhysicsSource,
        clock: Clock,
        ports: tuple[PortInfo, ...] = DEFAULT_PORTS,
        faults: Faults | None = None,
    ) -> None:
        self._physics = physics
        self._clock = clock
        self._ports = ports
        self.faults = faults or Faults()
        self._on: dict[str, bool] = {p.id: True for p in ports}
        self._scooter_limit_w = 500.0
        self._wifi = WifiSettings(enabled=True, ssid="SmartBench", max_clients=20, session_minutes=60)
        self.display_settings: DisplaySettings | None = None
        self._sample: PhysicsSample | None = None
        self._sampled_at: datetime | None = None
        self._sessions: dict[str, _Session] = {}
        self._finished: list[PortSessionData] = []
        self._last_power_w: dict[str, float] = {}
        self._sessions_today: dict[str, int] = {p.id: 0 for p in ports}
        self._wifi_sessions_today = 0
        self._wifi_clients = 0
        self._day: date | None = None
        self._tamper: list[TamperData] = []

    # -- state -----------------------------------------------------------------------------------
    def loads(self) -> LoadState:
        """The switch state the physics sees."""
        return LoadState(
            ports_on=dict(self._on),
            scooter_limit_w=self._scooter_limit_w,
            wifi_on=self._wifi.enabled,
            wifi_max_clients=self._wifi.max_clients,
            display_brightness_pct=self.display_settings.brightness_pct if self.display_settings else 100,
        )

    def is_on(self, port_id: str) -> bool:
        """Whether the relay of ``port_id`` is closed."""
        return self._on[port_id]

    @property
    def wifi_settings(self) -> WifiSettings:
        """What the access point was last told."""
        return self._wifi

    def _refresh(self) -> PhysicsSample:
        """Sample the physics once per clock instant and advance sessions and counters."""
        now = self._clock.now()
        if self._sample is not None and self._sampled_at == now:
            return self._sample
        sample = self._physics.sample(now, self.loads())
        if self._day != now.date():
            self._day = now.date()
            self._sessions_today = dict.fromkeys(self._sessions_today, 0)
            self._wifi_sessions_today = 0
        previous_at = self._sampled_at
        self._sample, self._sampled_at = sample, now
        self._track_sessions(now, previous_at)
        clients = self._clients(sample)
        self._wifi_sessions_today += max(0, clients - self._wifi_clients)
        self._wifi_clients = clients
        self._tamper.extend(sample.tamper)
        return sample

    def _delivered_w(self, sample: PhysicsSample, port: PortInfo) -> float:
        if not self._on[port.id] or port.id in self.faults.dead_ports:
            return 0.0
        demand = max(0.0, sample.port_demand_w.get(port.id, 0.0))
        return min(demand, self._scooter_limit_w) if port.kind == "scooter" else demand

    def _clients(self, sample: PhysicsSample) -> int:
        if not self._wifi.enabled or self.faults.wifi_broken:
            return 0
        return max(0, min(sample.wifi_clients_wanted, self._wifi.max_clients))

    def _track_sessions(self, now: datetime, previous_at: datetime | None) -> None:
        assert self._sample is not None
        hours = (now - previous_at).total_seconds() / 3600 if previous_at else 0.0
        for port in self._ports:
            power = self._delivered_w(self._sample, port)
            session = self._sessions.get(port.id)
            if session is not None:
                # The power seen at the previous sample held until now (piecewise constant).
                session.energy_wh += self._last_power_w.get(port.id, 0.0) * hours
            self._last_power_w[port.id] = power
            if power > 0 and session is None:
                self._sessions[port.id] = _Session(started=now)
                self._sessions_today[port.id] += 1
            elif power <= 0 and session is not None:
                del self._sessions[port.id]
                self._finished.append(
                    PortSessionData(
                        port_id=port.id,
                        kind=port.kind,
                        started=session.started,
                        ended=now,
                        energy_wh=round(session.energy_wh, 3),
                    )
                )

    # -- BatteryMonitor, ChargeController, LoadMeter ---------------------------------------------
    def read_battery(self) -> BatteryReading:
        """Battery values from the physics."""
        return self._refresh().battery

    def read_solar(self) -> SolarReading:
        """Solar values from the physics."""
        return self._refresh().solar

    def read_load(self) -> LoadReading:
        """Own electronics plus everything the ports and access point deliver."""
        sample = self._refresh()
        if sample.load_power_w is not None:  # the simulator's energy model drained exactly this
            return LoadReading(power_w=round(sample.load_power_w, 2))
        brightness = self.display_settings.brightness_pct if self.display_settings else 100
        total = BASE_LOAD_W + DISPLAY_FULL_W * brightness / 100
        total += WIFI_LOAD_W if self._wifi.enabled and not self.faults.wifi_broken else 0.0
        total += sum(self._delivered_w(sample, p) for p in self._ports)
        return LoadReading(power_w=round(total, 2))

    # -- ChargingPorts ---------------------------------------------------------------------------
    def ports(self) -> list[PortInfo]:
        """The simulated ports."""
        return list(self._ports)

    def set_port(self, port_id: str, on: bool) -> None:
        """Switch a relay, unless a fault says it is stuck."""
        if port_id not in self._on:
            raise HardwareError(f"no port {port_id!r} on this bench")
        if port_id in self.faults.fail_switch:
            raise HardwareError(f"port {port_id}: relay did not switch {'on' if on else 'off'}")
        self._on[port_id] = on

    def set_scooter_limit(self, max_power_w: float) -> None:
        """Cap scooter charging power."""
        self._scooter_limit_w = max_power_w

    def read_ports(self) -> list[PortReading]:
        """Each port's relay state (a dead port never reads active), power and sessions today."""
        sample = self._refresh()
        return [
            PortReading(
                id=p.id,
                kind=p.kind,
                active=self._on[p.id] and p.id not in self.faults.dead_ports,
                power_w=round(self._delivered_w(sample, p), 2),
                sessions_today=self._sessions_today[p.id],
            )
            for p in self._ports
        ]

    def finished_sessions(self) -> list[PortSessionData]:
        """Sessions that ended since the last call."""
        self._refresh()
        finished, self._finished = self._finished, []
        return finished

    # -- WifiAccessPoint, Display, TamperSensor --------------------------------------------------
    def set_wifi(self, settings: WifiSettings) -> None:
        """Configure the access point, unless it is broken."""
        if self.faults.wifi_broken:
            raise HardwareError("wifi: access point does not answer")
        self._wifi = settings

    def read_wifi(self) -> WifiReading:
        """Connected clients (within the limit) and sessions today."""
        self._refresh()
        return WifiReading(clients=self._wifi_clients, sessions_today=self._wifi_sessions_today)

    def set_display(self, settings: DisplaySettings) -> None:
        """Set backlight and on hours, unless the display is broken."""
        if self.faults.display_broken:
            raise HardwareError("display: backlight controller does not answer")
        self.display_settings = settings

    def triggered(self) -> list[TamperData]:
        """Tamper alarms the physics raised since the last call."""
        self._refresh()
        alarms, self._tamper = self._tamper, []
        return alarms

    def raise_tamper(self, sensor: str, detail: str = "") -> None:
        """Fire the tamper sensor (tests and scenarios)."""
        self._tamper.append(TamperData(sensor=sensor, detail=detail))

    def bench(self, model: str = "simulated", panel_wp: float | None = None) -> Bench:
        """This object in every device role; ``panel_wp`` is reported so the fleet expects the right panel."""
        info = HardwareInfo(model=model, driver="sim", ports=[p.id for p in self._ports], panel_wp=panel_wp)
        return Bench(battery=self, solar=self, load=self, ports=self, wifi=self, display=self, tamper=self, info=info)
