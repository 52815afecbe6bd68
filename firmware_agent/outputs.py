"""What the bench switches (ports, Wi-Fi, display) as one value, and applying it all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from twins.config import BenchConfig, ShedLoad
from twins.shedding import port_shed

from .hardware.base import Bench, DisplaySettings, HardwareError, PortInfo, WifiSettings


@dataclass(frozen=True, slots=True)
class Outputs:
    """The complete switch state of a bench: the effect of the config minus whatever is shed."""

    ports: tuple[tuple[str, bool], ...]
    scooter_limit_w: float
    wifi: WifiSettings
    display: DisplaySettings

    def port_on(self, port_id: str) -> bool:
        """Whether ``port_id`` is switched on."""
        return dict(self.ports)[port_id]


def outputs_for(config: BenchConfig, shed: frozenset[ShedLoad], ports: list[PortInfo]) -> Outputs:
    """Derive the switch state from a config and the loads currently shed."""
    enabled = {
        "usb": config.ports.usb.enabled,
        "wireless": config.ports.wireless.enabled,
        "scooter": config.ports.scooter.enabled,
    }
    port_state = tuple((p.id, enabled[p.kind] and not port_shed(p.kind, shed)) for p in ports)
    wifi = config.wifi
    return Outputs(
        ports=port_state,
        scooter_limit_w=config.ports.scooter.max_power_w,
        wifi=WifiSettings(
            enabled=wifi.enabled and "wifi" not in shed,
            ssid=wifi.ssid,
            max_clients=wifi.max_clients,
            session_minutes=wifi.session_minutes,
        ),
        display=DisplaySettings(brightness_pct=config.display.brightness_pct, on_hours=config.display.on_hours),
    )


class ApplyError(RuntimeError):
    """Applying outputs failed; everything already changed was put back (``rollback_errors`` if not)."""

    def __init__(self, message: str, rollback_errors: list[str]) -> None:
        suffix = f" (rollback incomplete: {'; '.join(rollback_errors)})" if rollback_errors else ""
        super().__init__(message + suffix)
        self.rollback_errors = rollback_errors


Step = tuple[str, Callable[[], None], Callable[[], None]]


def _steps(bench: Bench, old: Outputs | None, new: Outputs) -> list[Step]:
    """The hardware calls that turn ``old`` into ``new`` (everything if ``old`` is unknown), with undos."""
    steps: list[Step] = []
    old_ports = dict(old.ports) if old else {}
    for port_id, on in new.ports:
        before = old_ports.get(port_id)
        if before is None or before != on:
            # Without a known previous state (at boot) there is nothing to go back to.
            undo: Callable[[], None] = _nothing if before is None else partial(bench.ports.set_port, port_id, before)
            steps.append((f"port {port_id}", partial(bench.ports.set_port, port_id, on), undo))
    if old is None or old.scooter_limit_w != new.scooter_limit_w:
        prev_limit = old.scooter_limit_w if old else new.scooter_limit_w
        steps.append(
            (
                "scooter limit",
                lambda: bench.ports.set_scooter_limit(new.scooter_limit_w),
                lambda: bench.ports.set_scooter_limit(prev_limit),
            )
        )
    if old is None or old.wifi != new.wifi:
        prev_wifi = old.wifi if old else new.wifi
        steps.append(("wifi", lambda: bench.wifi.set_wifi(new.wifi), lambda: bench.wifi.set_wifi(prev_wifi)))
    if old is None or old.display != new.display:
        prev_display = old.display if old else new.display
        steps.append(
            (
                "display",
                lambda: bench.display.set_display(new.display),
                lambda: bench.display.set_display(prev_display),
            )
        )
    return steps


def _nothing() -> None:
    """Undo of a step whose previous state is unknown."""


def apply_outputs(bench: Bench, old: Outputs | None, new: Outputs) -> None:
    """Switch the hardware from ``old`` to ``new``; on a failure undo the steps done and raise ApplyError."""
    done: list[Step] = []
    for step in _steps(bench, old, new):
        try:
            step[1]()
        except HardwareError as err:
            raise ApplyError(f"hardware: {err}", _undo_all(done)) from err
        done.append(step)


def _undo_all(done: list[Step]) -> list[str]:
    errors: list[str] = []
    for name, _do, undo in reversed(done):
        try:
            undo()
        except HardwareError as err:
            errors.append(f"{name}: {err}")
    return errors
