"""The scenario file format: a TOML document of faults, each scheduled on some benches between two instants.

```toml
name = "winter-week"
start = 2026-01-12T06:00:00Z        # optional: where simulated time starts
duration = "7d"                     # optional: how long the scenario runs

[[faults]]
kind = "snow"                       # one of FAULT_KINDS
benches = ["nevesinje-01"]          # bench ids, or ["*"] for every bench of the run
start = "1d"                        # offset from the run's start (d/h/m/s) or an RFC 3339 instant
end = "4d"                          # optional; without it the fault lasts to the end of the run
cover_pct = 95                      # the kind's own parameters (see the models below)
```
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twins.durations import parse_duration

ALL_BENCHES = "*"
DATA_DIR = Path(__file__).parent / "data"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


When = str | datetime
"""An offset from the run's start (``"36h"``) or an absolute instant (TOML datetime or RFC 3339 string)."""


def resolve(when: When, run_start: datetime) -> datetime:
    """The absolute instant of a ``When`` for a run that starts at ``run_start``."""
    if isinstance(when, datetime):
        return when.astimezone(UTC)
    text = when.strip()
    if text[:1].isdigit() and ("-" in text or "T" in text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return run_start + (timedelta(0) if text in ("0", "0s") else parse_duration(text))


class _Fault(_Strict):
    benches: list[str] = Field(min_length=1)
    start: When = "0s"
    end: When | None = None

    @field_validator("start", "end")
    @classmethod
    def _check_when(cls, value: When | None) -> When | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("an absolute instant needs a time zone, e.g. 2026-01-12T06:00:00Z")
        if isinstance(value, str):
            resolve(value, datetime(2000, 1, 1, tzinfo=UTC))  # raises ValueError naming the text
        return value


class Soiling(_Fault):
    """Dust and pollen on the panel: solar loss grows every day, a rainy day washes it off."""

    kind: Literal["soiling"]
    rate_pct_per_day: float = Field(default=1.5, ge=0, le=50)
    max_pct: float = Field(default=40.0, ge=0, le=100)
    rain_probability: float = Field(default=0.15, ge=0, le=1, description="chance that a day brings rain")


class Snow(_Fault):
    """Snow on the panel: covers ``cover_pct`` at the start, melts day by day, rain clears it."""

    kind: Literal["snow"]
    cover_pct: float = Field(default=100.0, ge=0, le=100)
    melt_pct_per_day: float = Field(default=25.0, ge=0, le=100)
    rain_probability: float = Field(default=0.0, ge=0, le=1)


class Shading(_Fault):
    """A fixed obstacle (a new building, a tree) shading the panel during some local hours."""

    kind: Literal["shading"]
    loss_pct: float = Field(default=70.0, ge=0, le=100)
    from_hour: float = Field(default=0.0, ge=0, le=24)
    to_hour: float = Field(default=24.0, ge=0, le=24)


class BatteryDegradation(_Fault):
    """An aged or damaged battery: its capacity drops to ``capacity_pct`` of nominal at the start."""

    kind: Literal["battery_degradation"]
    capacity_pct: float = Field(default=50.0, ge=10, le=100)


class DeadPort(_Fault):
    """A charging port that delivers nothing (burnt socket or relay)."""

    kind: Literal["dead_port"]
    port: str = Field(min_length=1)


class Tamper(_Fault):
    """Vandalism: the tamper sensor fires (again every ``every_min`` if set); ``damage_ports`` stop working."""

    kind: Literal["tamper"]
    sensor: Literal["door", "vibration", "tilt"] = "vibration"
    detail: str = "vandalism"
    every_min: float | None = Field(default=None, gt=0)
    damage_ports: list[str] = Field(default_factory=list)


class Outage(_Fault):
    """Connectivity outage: the bench's connection drops (its last will fires) and the broker is unreachable."""

    kind: Literal["outage"]


class FrozenSensor(_Fault):
    """A sensor stuck at its last reading: telemetry repeats identical values."""

    kind: Literal["frozen_sensor"]
    sensor: Literal["battery", "solar", "all"] = "battery"


class ClockSkew(_Fault):
    """The bench's clock runs ``skew_s`` seconds off: every timestamp it sends is shifted."""

    kind: Literal["clock_skew"]
    skew_s: float = Field(ge=-7 * 86400, le=7 * 86400)


class Malformed(_Fault):
    """Broken firmware: garbage on the telemetry topic every ``every_min`` minutes (besides good samples)."""

    kind: Literal["malformed"]
    every_min: float = Field(default=10.0, gt=0)


Fault = Annotated[
    Soiling | Snow | Shading | BatteryDegradation | DeadPort | Tamper | Outage | FrozenSensor | ClockSkew | Malformed,
    Field(discriminator="kind"),
]
FAULT_KINDS = (
    "soiling",
    "snow",
    "shading",
    "battery_degradation",
    "dead_port",
    "tamper",
    "outage",
    "frozen_sensor",
    "clock_skew",
    "malformed",
)


class Scenario(_Strict):
    """A named schedule of faults."""

    name: str = Field(min_length=1)
    description: str = ""
    start: datetime | None = None
    duration: str | None = None
    faults: list[Fault] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-01-12T06:00:00Z")
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _ends_after_starts(self) -> Scenario:
        origin = self.start or datetime(2000, 1, 1, tzinfo=UTC)
        for i, fault in enumerate(self.faults):
            if fault.end is not None and resolve(fault.end, origin) <= resolve(fault.start, origin):
                raise ValueError(f"faults[{i}] ({fault.kind}): end must be after start")
        return self

    @property
    def duration_td(self) -> timedelta | None:
        """The scenario's duration, if it states one."""
        return parse_duration(self.duration) if self.duration else None


def _format(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        # "faults.0.snow.cover_pct" reads better as "faults[0].cover_pct (snow)"
        parts = [str(p) for p in e["loc"]]
        if len(parts) >= 3 and parts[0] == "faults" and parts[1].isdigit() and parts[2] in FAULT_KINDS:
            loc = f"faults[{parts[1]}].{'.'.join(parts[3:]) or 'kind'} ({parts[2]})"
        elif len(parts) >= 2 and parts[0] == "faults" and parts[1].isdigit():
            loc = f"faults[{parts[1]}]" + ("." + ".".join(parts[2:]) if parts[2:] else "")
        lines.append(f"{loc}: {e['msg']}")
    return f"scenario {source}: " + "; ".join(lines)


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    """Parse and validate scenario TOML; ScenarioError names the file and every bad key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"scenario {source}: not valid TOML: {err}") from err
    try:
        return Scenario.model_validate(doc)
    except ValidationError as err:
        raise ScenarioError(_format(err, source)) from err


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file (``winter_week`` alone names a shipped one in ``scenarios/data``)."""
    candidate = path if path.suffix or path.exists() else DATA_DIR / f"{path.name}.toml"
    try:
        text = candidate.read_text(encoding="utf-8")
    except OSError as err:
        shipped = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.toml")))
        raise ScenarioError(f"scenario {path}: cannot read it ({err.strerror}); shipped ones: {shipped}") from err
    return parse_scenario(text, source=candidate.name)


def shipped_scenarios() -> list[Path]:
    """The scenario files that ship with the project."""
    return sorted(DATA_DIR.glob("*.toml"))
