"""The hardware layer: one typed Protocol per device of a bench, and the bench as their composition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from twins.config import OnHours
from twins.messages import (
    BatteryReading,
    HardwareInfo,
    LoadReading,
    PortKind,
    PortReading,
    PortSessionData,
    SolarReading,
    TamperData,
    WifiReading,
)


class HardwareError(RuntimeError):
    """A device did not do what it was told (a relay that does not switch, a dead sensor)."""


@dataclass(frozen=True, slots=True)
class PortInfo:
    """A charging port as wired: its id and what it charges."""

    id: str
    kind: PortKind


@dataclass(frozen=True, slots=True)
class WifiSettings:
    """What the access point is told: on/off, network name and limits."""

    enabled: bool
    ssid: str
    max_clients: int
    session_minutes: int


@dataclass(frozen=True, slots=True)
class DisplaySettings:
    """Touchscreen brightness and the daily window in which it is lit."""

    brightness_pct: int
    on_hours: OnHours


class BatteryMonitor(Protocol):
    """Battery state: charge, voltage, current and temperature."""

    def read_battery(self) -> BatteryReading:
        """Return the latest battery values; raise HardwareError when none are available."""
        ...


class ChargeController(Protocol):
    """Solar charge controller: panel power and today's yield."""

    def read_solar(self) -> SolarReading:
        """Return the latest solar values; raise HardwareError when none are available."""
        ...


class LoadMeter(Protocol):
    """Total consumption of the bench."""

    def read_load(self) -> LoadReading:
        """Return the bench's current consumption."""
        ...


class ChargingPorts(Protocol):
    """Switchable charging ports with power metering and session counting."""

    def ports(self) -> list[PortInfo]:
        """The ports of this bench, in a stable order."""
        ...

    def set_port(self, port_id: str, on: bool) -> None:
        """Switch one port on or off; raise HardwareError if it does not switch."""
        ...

    def set_scooter_limit(self, max_power_w: float) -> None:
        """Cap the power of scooter ports."""
        ...

    def read_ports(self) -> list[PortReading]:
        """Return each port's state, power and sessions today."""
        ...

    def finished_sessions(self) -> list[PortSessionData]:
        """Return (and forget) the charging sessions that ended since the last call."""
        ...


class WifiAccessPoint(Protocol):
    """The free Wi-Fi access point."""

    def set_wifi(self, settings: WifiSettings) -> None:
        """Apply on/off, SSID and limits; raise HardwareError on failure."""
        ...

    def read_wifi(self) -> WifiReading:
        """Return connected clients and sessions today."""
        ...


class Display(Protocol):
    """The kiosk touchscreen's backlight."""

    def set_display(self, settings: DisplaySettings) -> None:
        """Apply brightness and on hours; raise HardwareError on failure."""
        ...


class TamperSensor(Protocol):
    """Door/vibration sensor."""

    def triggered(self) -> list[TamperData]:
        """Return (and forget) the tamper alarms raised since the last call."""
        ...


@dataclass(frozen=True, slots=True)
class Bench:
    """A bench's hardware: one object per device role (a driver may fill several roles)."""

    battery: BatteryMonitor
    solar: ChargeController
    load: LoadMeter
    ports: ChargingPorts
    wifi: WifiAccessPoint
    display: Display
    tamper: TamperSensor
    info: HardwareInfo = field(default_factory=lambda: HardwareInfo(model="unknown", driver="unknown"))

    def close(self) -> None:
        """Release devices that hold resources (serial ports); devices without ``close`` are skipped."""
        for device in {id(d): d for d in (self.battery, self.solar, self.load, self.ports)}.values():
            closer = getattr(device, "close", None)
            if callable(closer):
                closer()
