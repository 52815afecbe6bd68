"""Every physics default is a documented assumption: docs/simulator.md lists each one with its value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, DEFAULT_PORTS, assumption_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| ([^|]+) \|", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    return {name: value.strip() for name, value in rows}


@pytest.mark.parametrize(("name", "value"), assumption_rows(), ids=lambda v: str(v))
def test_each_assumption_is_documented_with_its_value(name: str, value: object) -> None:
    documented = _documented()
    assert name in documented, f"{name} is missing from docs/simulator.md"
    if isinstance(value, str):
        assert documented[name] == value
    else:
        assert float(documented[name].replace(",", "")) == pytest.approx(float(value))


def test_the_issue_defaults() -> None:
    assert DEFAULT_ASSUMPTIONS.panel.panel_wp == 150.0
    assert DEFAULT_ASSUMPTIONS.battery.capacity_wh == 1280.0
    assert {p.kind: p.power_w for p in DEFAULT_PORTS} == {"usb": 12.0, "wireless": 15.0, "scooter": 70.0}
    loads = DEFAULT_ASSUMPTIONS.loads
    assert loads.controller_w + loads.router_w == 5.0


def test_port_table_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for port in DEFAULT_PORTS:
        row = f"| `{port.port_id}` | {port.kind} | {port.power_w:g} | {port.min_power_frac:g} | "
        assert row + f"{port.sessions_per_day:g} | {port.mean_session_min:g} |" in text
