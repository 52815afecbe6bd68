"""What a scenario's faults do to one bench at one instant: a pure function of time, bench and seed.

Gradual faults (soiling, snow) are computed from the time elapsed since the panel was last clean, and
rain is a per-bench, per-day draw from the seed, so the effect at an instant never depends on how often
the bench was stepped: a run is reproducible from its seed at any speed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS
from simulator.scenarios.model import (
    ALL_BENCHES,
    BatteryDegradation,
    ClockSkew,
    DeadPort,
    Fault,
    FrozenSensor,
    Malformed,
    Outage,
    Scenario,
    ScenarioError,
    Shading,
    Snow,
    Soiling,
    Tamper,
    resolve,
)

ZONE = ZoneInfo(DEFAULT_ASSUMPTIONS.loads.timezone)
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Effects:
    """The state of a bench's faults at an instant."""

    solar_factor: float = 1.0
    frozen: frozenset[str] = frozenset()
    skew_s: float = 0.0
    offline: bool = False
    dead_ports: frozenset[str] = frozenset()
    capacity_pct: float | None = None


NO_EFFECTS = Effects()


@dataclass(frozen=True, slots=True)
class Action:
    """A one-off thing a fault does at an instant: fire the tamper sensor or publish garbage."""

    t_s: float
    kind: str
    sensor: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Active:
    """One fault resolved for a run: absolute start and end (epoch s)."""

    fault: Fault
    start_s: float
    end_s: float

    def covers(self, t_s: float) -> bool:
        """Whether the fault is in force at ``t_s``."""
        return self.start_s <= t_s < self.end_s


def _local_day(t_s: float) -> int:
    return datetime.fromtimestamp(t_s, ZONE).date().toordinal()


def _day_start_s(ordinal: int) -> float:
    day = datetime.fromordinal(ordinal)
    return day.replace(tzinfo=ZONE).timestamp()


def _local_hour(t_s: float) -> float:
    local = datetime.fromtimestamp(t_s, ZONE)
    return local.hour + local.minute / 60.0 + local.second / 3600.0


@dataclass
class BenchSchedule:
    """The faults of one bench and the per-day rain draws they need."""

    bench_id: str
    seed: int
    faults: list[Active]
    _rain: dict[int, float] = field(default_factory=dict)

    def _rain_draw(self, ordinal: int) -> float:
        found = self._rain.get(ordinal)
        if found is None:
            digest = hashlib.blake2b(f"rain:{self.seed}:{self.bench_id}:{ordinal}".encode(), digest_size=8).digest()
            found = self._rain[ordinal] = int.from_bytes(digest, "big") / 2**64
        return found

    def _last_rain_s(self, after_s: float, t_s: float, probability: float) -> float | None:
        """Start of the latest rainy local day in (day of ``after_s``, day of ``t_s``], or None."""
        if probability <= 0:
            return None
        first = _local_day(after_s)
        for ordinal in range(_local_day(t_s), first, -1):
            if self._rain_draw(ordinal) < probability:
                return _day_start_s(ordinal)
        return None

    def solar_loss_pct(self, active: Active, t_s: float) -> float:
        """Solar loss of one soiling, snow or shading fault at ``t_s``, %."""
        fault = active.fault
        if isinstance(fault, Soiling):
            clean_s = self._last_rain_s(active.start_s, t_s, fault.rain_probability) or active.start_s
            return min(fault.max_pct, fault.rate_pct_per_day * (t_s - clean_s) / DAY_S)
        if isinstance(fault, Snow):
            if self._last_rain_s(active.start_s, t_s, fault.rain_probability) is not None:
                return 0.0
            return max(0.0, fault.cover_pct - fault.melt_pct_per_day * (t_s - active.start_s) / DAY_S)
        if isinstance(fault, Shading):
            hour = _local_hour(t_s)
            lo, hi = fault.from_hour, fault.to_hour
            inside = lo <= hour < hi if lo <= hi else (hour >= lo or hour < hi)
            return fault.loss_pct if inside else 0.0
        return 0.0

    def effects(self, t_s: float) -> Effects:
        """Everything in force at ``t_s``."""
        factor, frozen, skew, offline = 1.0, set[str](), 0.0, False
        dead: set[str] = set()
        capacity: float | None = None
        for active in self.faults:
            fault = active.fault
            if isinstance(fault, BatteryDegradation) and t_s >= active.start_s:
                capacity = fault.capacity_pct  # permanent: a battery does not heal at the fault's end
            if not active.covers(t_s):
                continue
            factor *= 1.0 - self.solar_loss_pct(active, t_s) / 100.0
            _APPLY.get(type(fault), _nothing)(fault, frozen, dead)
            if isinstance(fault, ClockSkew):
                skew += fault.skew_s
            offline = offline or isinstance(fault, Outage)
        if factor == 1.0 and not frozen and not skew and not offline and not dead and capacity is None:
            return NO_EFFECTS
        return Effects(factor, frozenset(frozen), skew, offline, frozenset(dead), capacity)

    def actions(self, after_s: float, t_s: float) -> list[Action]:
        """One-off actions due in (``after_s``, ``t_s``], in time order."""
        due: list[Action] = []
        for active in self.faults:
            fault = active.fault
            if isinstance(fault, Tamper):
                due += [
                    Action(x, "tamper", fault.sensor, fault.detail)
                    for x in _times(active, fault.every_min, after_s, t_s)
                ]
            elif isinstance(fault, Malformed):
                due += [Action(x, "malformed") for x in _times(active, fault.every_min, after_s, t_s)]
        return sorted(due, key=lambda a: a.t_s)


def _times(active: Active, every_min: float | None, after_s: float, t_s: float) -> Iterable[float]:
    """Instants start, start + every, ... inside the fault and inside (after_s, t_s]."""
    if every_min is None:
        return [active.start_s] if after_s < active.start_s <= t_s and active.start_s < active.end_s else []
    step = every_min * 60.0
    k = max(0, math.floor((after_s - active.start_s) / step) + 1)
    out = []
    x = active.start_s + k * step
    while x <= t_s and x < active.end_s:
        if x > after_s:
            out.append(x)
        k += 1
        x = active.start_s + k * step
    return out


def _nothing(fault: Fault, frozen: set[str], dead: set[str]) -> None:
    return None


def _frozen(fault: Fault, frozen: set[str], dead: set[str]) -> None:
    assert isinstance(fault, FrozenSensor)
    frozen.update(("battery", "solar") if fault.sensor == "all" else (fault.sensor,))


def _dead(fault: Fault, frozen: set[str], dead: set[str]) -> None:
    assert isinstance(fault, DeadPort)
    dead.add(fault.port)


def _damaged(fault: Fault, frozen: set[str], dead: set[str]) -> None:
    assert isinstance(fault, Tamper)
    dead.update(fault.damage_ports)


# Fault kinds that switch a sensor or port state while in force (the others act through the code above).
_APPLY: dict[type, Callable[[Fault, set[str], set[str]], None]] = {
    FrozenSensor: _frozen,
    DeadPort: _dead,
    Tamper: _damaged,
    Malformed: _nothing,
}


def build_schedules(
    scenario: Scenario, bench_ids: list[str], run_start: datetime, run_end: datetime | None, seed: int
) -> dict[str, BenchSchedule]:
    """Resolve a scenario for the benches of a run; ScenarioError names faults aimed at unknown benches."""
    known = set(bench_ids)
    schedules: dict[str, BenchSchedule] = {}
    end_default = (run_end or datetime(9999, 1, 1, tzinfo=UTC)).timestamp()
    for i, fault in enumerate(scenario.faults):
        targets = bench_ids if ALL_BENCHES in fault.benches else fault.benches
        unknown = sorted(set(targets) - known)
        if unknown:
            raise ScenarioError(
                f"scenario {scenario.name}: faults[{i}] ({fault.kind}).benches names {', '.join(unknown)}, "
                f"which this run does not simulate (it runs {len(bench_ids)} benches)"
            )
        start_s = resolve(fault.start, run_start).timestamp()
        end_s = resolve(fault.end, run_start).timestamp() if fault.end is not None else end_default
        for bench_id in targets:
            schedule = schedules.setdefault(bench_id, BenchSchedule(bench_id, seed, []))
            schedule.faults.append(Active(fault, start_s, end_s))
    return schedules
