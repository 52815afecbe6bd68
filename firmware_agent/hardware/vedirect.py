"""Victron VE.Direct driver: battery monitor (BMV/SmartShunt) and MPPT charge controller over serial ports.

Reading never blocks: each read drains what the serial port has buffered (pyserial, timeout 0) into the
parser and answers from the latest verified block, so the agent's single-threaded loop is never held up.
A bench may have one port (an MPPT alone, or a BMV alone) or two (BMV + MPPT); the role of each port is
recognised from the labels it sends (``SOC`` = battery monitor, ``PPV`` = charge controller).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Protocol

from twins.messages import BatteryReading, LoadReading, SolarReading

from .base import HardwareError
from .vedirect_protocol import ParserStats, VeBlock, VeDirectParser

BAUD_RATE = 19200
READ_CHUNK = 4096
# Resting-voltage to state-of-charge table of a 12.8 V LiFePO4 pack, used only without a battery monitor.
_SOC_BY_VOLTAGE: tuple[tuple[float, float], ...] = (
    (12.0, 0.0),
    (12.5, 10.0),
    (12.9, 20.0),
    (13.0, 30.0),
    (13.1, 40.0),
    (13.2, 70.0),
    (13.3, 90.0),
    (13.4, 100.0),
)


class SerialLike(Protocol):
    """The part of ``serial.Serial`` the driver uses."""

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read."""
        ...

    def read(self, size: int = 1) -> bytes:
        """Read up to ``size`` bytes."""
        ...

    def close(self) -> None:
        """Close the port."""
        ...


def open_serial(path: str) -> SerialLike:
    """Open a VE.Direct port: 19200 baud 8N1, non-blocking reads."""
    import serial

    try:
        port: SerialLike = serial.Serial(path, BAUD_RATE, timeout=0)
    except serial.SerialException as err:
        raise HardwareError(f"cannot open VE.Direct port {path}: {err}") from err
    return port


class VeDirectPort:
    """One serial port with its parser and the latest fields (BMVs split their data over two blocks)."""

    def __init__(self, path: str, opener: Callable[[str], SerialLike] = open_serial) -> None:
        self.path = path
        self._serial = opener(path)
        self.parser = VeDirectParser()
        self.fields: dict[str, str] = {}

    @property
    def stats(self) -> ParserStats:
        """Parser counters (blocks, checksum errors, HEX messages)."""
        return self.parser.stats

    def poll(self) -> list[VeBlock]:
        """Read everything buffered, merge verified blocks into ``fields`` and return them."""
        blocks: list[VeBlock] = []
        try:
            while (waiting := self._serial.in_waiting) > 0:
                blocks.extend(self.parser.feed(self._serial.read(min(waiting, READ_CHUNK))))
        except OSError as err:
            raise HardwareError(f"VE.Direct port {self.path}: {err}") from err
        for block in blocks:
            self.fields.update(block.fields)
        return blocks

    def number(self, label: str) -> float | None:
        """The latest numeric value of ``label`` or None."""
        return VeBlock(self.fields).number(label)

    def close(self) -> None:
        """Close the serial port."""
        self._serial.close()


def soc_from_voltage(voltage_v: float) -> float:
    """Estimate state of charge (%) from battery voltage by linear interpolation in the LiFePO4 table."""
    volts = [v for v, _ in _SOC_BY_VOLTAGE]
    i = bisect.bisect_left(volts, voltage_v)
    if i == 0:
        return _SOC_BY_VOLTAGE[0][1]
    if i == len(volts):
        return _SOC_BY_VOLTAGE[-1][1]
    (v0, s0), (v1, s1) = _SOC_BY_VOLTAGE[i - 1], _SOC_BY_VOLTAGE[i]
    return s0 + (s1 - s0) * (voltage_v - v0) / (v1 - v0)


class VeDirectDevices:
    """Battery monitor, charge controller and load meter from one or two VE.Direct ports."""

    def __init__(self, ports: Sequence[VeDirectPort], default_temp_c: float = 20.0) -> None:
        if not 1 <= len(ports) <= 2:
            raise ValueError("VE.Direct needs one or two serial ports")
        self._ports = list(ports)
        self.default_temp_c = default_temp_c

    @property
    def stats(self) -> dict[str, ParserStats]:
        """Parser counters per port path."""
        return {p.path: p.stats for p in self._ports}

    def _poll(self) -> None:
        for port in self._ports:
            port.poll()

    def _with(self, label: str) -> VeDirectPort | None:
        return next((p for p in self._ports if label in p.fields), None)

    def _require(self, label: str, role: str) -> VeDirectPort:
        port = self._with(label)
        if port is None:
            raise HardwareError(f"no valid VE.Direct frame from a {role} yet on {', '.join(self.paths)}")
        return port

    @property
    def paths(self) -> list[str]:
        """The serial ports in use."""
        return [p.path for p in self._ports]

    def read_battery(self) -> BatteryReading:
        """From the battery monitor if present, else the charge controller with an estimated charge."""
        self._poll()
        monitor = self._with("SOC")
        source = monitor or self._require("V", "battery monitor or charge controller")
        volts = _scaled(source, "V", 1000)
        current = _scaled(source, "I", 1000) if source.number("I") is not None else 0.0
        soc = _scaled(monitor, "SOC", 10) if monitor else soc_from_voltage(volts)
        temp = source.number("T")
        return BatteryReading(
            soc_pct=round(min(100.0, max(0.0, soc)), 1),
            voltage_v=round(volts, 3),
            current_a=round(current, 3),
            temp_c=float(temp) if temp is not None else self.default_temp_c,
        )

    def read_solar(self) -> SolarReading:
        """Panel power (``PPV``, W) and today's yield (``H20``, 0.01 kWh)."""
        self._poll()
        mppt = self._require("PPV", "charge controller")
        yield_today = mppt.number("H20")
        return SolarReading(
            power_w=float(mppt.number("PPV") or 0.0),
            energy_today_wh=float(yield_today * 10) if yield_today is not None else 0.0,
        )

    def read_load(self) -> LoadReading:
        """The MPPT load output (``IL``) if wired, else solar power minus battery charging power."""
        self._poll()
        mppt = self._with("PPV")
        if mppt is not None and mppt.number("IL") is not None:
            return LoadReading(power_w=round(_scaled(mppt, "V", 1000) * _scaled(mppt, "IL", 1000), 2))
        battery = self.read_battery()
        solar_w = float(mppt.number("PPV") or 0.0) if mppt else 0.0
        return LoadReading(power_w=round(max(0.0, solar_w - battery.voltage_v * battery.current_a), 2))

    def close(self) -> None:
        """Close every serial port."""
        for port in self._ports:
            port.close()


def _scaled(port: VeDirectPort, label: str, divisor: float) -> float:
    value = port.number(label)
    if value is None:
        raise HardwareError(f"VE.Direct port {port.path}: label {label} missing or not numeric")
    return value / divisor


def open_vedirect(paths: Sequence[str], default_temp_c: float = 20.0) -> VeDirectDevices:
    """Open one or two VE.Direct ports by path."""
    ports: list[VeDirectPort] = []
    try:
        for path in paths:
            ports.append(VeDirectPort(path))
    except HardwareError:
        for port in ports:
            port.close()
        raise
    return VeDirectDevices(ports, default_temp_c)
