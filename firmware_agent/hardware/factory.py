"""``--hardware`` specs (``sim`` or ``vedirect:/dev/ttyUSB0[,/dev/ttyUSB1]``) and building a bench from one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from twins.clock import Clock
from twins.messages import BatteryReading, HardwareInfo, SolarReading

from .base import Bench
from .simple_physics import SimplePhysics
from .simulated import LoadState, PhysicsSample, PhysicsSource, SimulatedHardware
from .vedirect import open_vedirect

SPEC_HELP = "use 'sim' or 'vedirect:/dev/ttyUSB0' (a second port after a comma: 'vedirect:/dev/ttyUSB0,/dev/ttyUSB1')"


@dataclass(frozen=True, slots=True)
class HardwareSpec:
    """Which driver to use: ``sim``, or ``vedirect`` with one or two serial port paths."""

    driver: str
    ports: tuple[str, ...] = ()


def parse_hardware_spec(text: str) -> HardwareSpec:
    """Parse a ``--hardware`` value; raise ValueError naming what is wrong and the accepted forms."""
    value = text.strip()
    if value == "sim":
        return HardwareSpec("sim")
    driver, sep, rest = value.partition(":")
    if driver != "vedirect" or not sep:
        raise ValueError(f"--hardware {text!r}: unknown hardware; {SPEC_HELP}")
    ports = tuple(p.strip() for p in rest.split(","))
    if not 1 <= len(ports) <= 2 or not all(ports):
        raise ValueError(f"--hardware {text!r}: give one or two serial ports; {SPEC_HELP}")
    if not all(p.startswith("/") for p in ports):
        raise ValueError(f"--hardware {text!r}: serial ports must be absolute paths such as /dev/ttyUSB0")
    return HardwareSpec("vedirect", ports)


class _NoUsers:
    """Physics for the relay-board stand-in of a VE.Direct bench: nobody is metered on the ports."""

    def sample(self, now: datetime, loads: LoadState) -> PhysicsSample:
        """No demand; the battery and sun fields are never exposed (VE.Direct provides them)."""
        return PhysicsSample(
            battery=BatteryReading(soc_pct=0, voltage_v=0, current_a=0, temp_c=0),
            solar=SolarReading(power_w=0, energy_today_wh=0),
        )


def build_bench(spec: HardwareSpec, clock: Clock, physics: PhysicsSource | None = None) -> Bench:
    """Open the hardware a spec names; ``physics`` drives ``sim`` (a simple built-in model by default)."""
    if spec.driver == "sim":
        simple = SimplePhysics()
        return SimulatedHardware(physics or simple, clock).bench(panel_wp=None if physics else simple.panel.panel_wp)
    devices = open_vedirect(spec.ports)
    # Relays, access point and backlight sit on the bench's I/O board; until its driver exists their
    # switch state is kept in memory, which is what ``driver`` in the reported document says.
    io = SimulatedHardware(_NoUsers(), clock)
    info = HardwareInfo(model="victron", driver="vedirect+virtual-io", ports=[p.id for p in io.ports()])
    return Bench(battery=devices, solar=devices, load=devices, ports=io, wifi=io, display=io, tamper=io, info=info)
