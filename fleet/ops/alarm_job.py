"""The alarm evaluation job the scheduler runs: gather each bench's facts, run the rules table, move the
alarms forward in SQL, escalate what nobody acknowledged, send the notifications owed."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from fleet.ops.alarms import AlarmStore, BenchFindings, ThresholdBook
from fleet.ops.notify import Notifier
from fleet.tsdb.base import TimeSeriesStore, TsdbError
from twins.alarm_rules import HISTORY_RULES, AlarmFacts, AlarmThresholds, DayYield, evaluate
from twins.clock import Clock
from twins.metrics import BATTERY_CURRENT, BATTERY_SOC, BATTERY_TEMP, BATTERY_VOLTAGE, SOLAR_ENERGY, SOLAR_POWER
from twins.series import TELEMETRY
from twins.solar import clear_sky_energy_wh
from twins.twin import Twin

log = logging.getLogger(__name__)

#: The fields of each sensor the frozen-sensor rule watches (TSDB fields = metric keys); the first is the flow:
#: while it is not zero the others must move (current changes the charge, power the day's energy), so all
#: of them standing still is a stuck sensor, not a battery at rest or a charger held at the load's draw.
SENSOR_FIELDS: dict[str, tuple[str, ...]] = {
    "battery": (BATTERY_CURRENT.key, BATTERY_SOC.key, BATTERY_VOLTAGE.key, BATTERY_TEMP.key),
    "solar": (SOLAR_POWER.key, SOLAR_ENERGY.key),
}
_SESSIONS = "ports.{kind}.sessions_today"


@dataclass(frozen=True, slots=True)
class Histories:
    """What the TSDB told about one bench: sensor series, whole days' yield, port sessions."""

    sensors: dict[str, dict[str, tuple[float | None, ...]]]
    days: tuple[DayYield, ...]
    ports: dict[str, int | None]


_ENERGY = SOLAR_ENERGY.key


@dataclass
class FactSource:
    """Builds AlarmFacts from a twin, the TSDB (histories) and SQL signals (tamper)."""

    tsdb: TimeSeriesStore | None
    #: Histories span half an hour to days: re-read at most this often (thousands of benches, one TSDB).
    refresh: timedelta = timedelta(minutes=5)
    # Past days do not change: their clear-sky expectation and measured yield are kept (a copy, per process).
    _days: dict[tuple[str, date], DayYield | None] = field(default_factory=dict)
    _recent: dict[str, tuple[datetime, Histories]] = field(default_factory=dict)

    def facts(
        self,
        twin: Twin,
        now: datetime,
        th: AlarmThresholds,
        tamper_at: datetime | None,
        share: Mapping[str, float] | None = None,
    ) -> tuple[AlarmFacts, bool]:
        """What the rules need about one bench (``share``: the fleet's port usage, see ``port_share``), and
        whether the histories are known (False while the TSDB does not answer: history rules are skipped)."""
        if self.tsdb is None or twin.telemetry is None:
            return AlarmFacts(twin, now, last_tamper_at=tamper_at), self.tsdb is not None
        try:
            h = self._histories(twin, now, th)
        except TsdbError as err:
            log.warning("alarm histories of %s unavailable, history rules wait: %s", twin.bench_id, err)
            return AlarmFacts(twin, now, last_tamper_at=tamper_at), False
        facts = AlarmFacts(
            twin,
            now,
            sensor_series=h.sensors,
            daily_yield=h.days,
            port_sessions=h.ports,
            port_share=share or {},
            last_tamper_at=tamper_at,
        )
        return facts, True

    def _histories(self, twin: Twin, now: datetime, th: AlarmThresholds) -> Histories:
        cached = self._recent.get(twin.bench_id)
        if cached is not None and timedelta(0) <= now - cached[0] < self.refresh:
            return cached[1]
        found = Histories(self._sensors(twin.bench_id, now, th), self._yield(twin, now, th), self._ports(twin, now, th))
        self._recent[twin.bench_id] = (now, found)
        return found

    def _series(
        self, bench_id: str, name: str, start: datetime, end: datetime, every: timedelta
    ) -> tuple[float | None, ...]:
        assert self.tsdb is not None
        return tuple(
            s.value for s in self.tsdb.query_series(TELEMETRY, name, {"bench_id": bench_id}, start, end, every)
        )

    def _sensors(
        self, bench_id: str, now: datetime, th: AlarmThresholds
    ) -> dict[str, dict[str, tuple[float | None, ...]]]:
        window = timedelta(minutes=th.frozen_minutes)
        every = window / max(int(th.frozen_min_samples), 1)
        return {
            sensor: {f: self._series(bench_id, f, now - window, now, every) for f in names}
            for sensor, names in SENSOR_FIELDS.items()
        }

    def _ports(self, twin: Twin, now: datetime, th: AlarmThresholds) -> dict[str, int | None]:
        assert twin.telemetry is not None
        window = timedelta(hours=th.port_window_hours)
        out: dict[str, int | None] = {}
        for kind in sorted({p.kind for p in twin.telemetry.ports}):
            series = self._series(twin.bench_id, _SESSIONS.format(kind=kind), now - window, now, window / 12)
            out[kind] = started(series)
        return out

    def _yield(self, twin: Twin, now: datetime, th: AlarmThresholds) -> tuple[DayYield, ...]:
        today = now.astimezone(UTC).date()
        days = [today - timedelta(days=n) for n in range(int(th.yield_days), 0, -1)]
        return tuple(d for day in days if (d := self._day(twin, day)) is not None)

    def _day(self, twin: Twin, day: date) -> DayYield | None:
        key = (twin.bench_id, day)
        if key not in self._days:
            start = datetime.combine(day, time(), UTC)
            end = start + timedelta(days=1)
            values = [v for v in self._series(twin.bench_id, _ENERGY, start, end, timedelta(hours=1)) if v is not None]
            a = twin.attributes
            # energy_today is a daily counter: its highest value is the day's yield.
            self._days[key] = (
                DayYield(day, max(values), clear_sky_energy_wh(a.lat, a.lon, a.altitude_m, start, end))
                if values
                else None
            )
        return self._days[key]


def started(counts: tuple[float | None, ...]) -> int | None:
    """Sessions started over a series of a daily ``sessions_today`` counter (a drop is its midnight reset:
    the value after it counts from zero); None with fewer than two samples."""
    seen = [v for v in counts if v is not None]
    if len(seen) < 2:
        return None
    return round(sum(b - a if b >= a else b for a, b in itertools.pairwise(seen)))


def port_share(twins: Iterable[Twin]) -> dict[str, float]:
    """Each port kind's share of today's sessions across the fleet (from the twins' latest samples)."""
    totals: dict[str, float] = {}
    for twin in twins:
        for port in twin.telemetry.ports if twin.telemetry else ():
            totals[port.kind] = totals.get(port.kind, 0.0) + port.sessions_today
    whole = sum(totals.values())
    return {k: v / whole for k, v in totals.items()} if whole else {}


@dataclass(frozen=True, slots=True)
class AlarmJobSettings:
    """How often and how the job escalates."""

    escalate_after: timedelta = timedelta(minutes=30)
    history_refresh: timedelta = timedelta(minutes=5)


class AlarmJob:
    """One evaluation of every bench (the scheduler's single holder runs it periodically)."""

    def __init__(
        self,
        twins: Callable[[], Iterable[Twin]],
        store: AlarmStore,
        clock: Clock,
        *,
        tsdb: TimeSeriesStore | None = None,
        notifier: Notifier | None = None,
        settings: AlarmJobSettings = AlarmJobSettings(),
    ) -> None:
        self._twins = twins
        self._store = store
        self._clock = clock
        self.facts = FactSource(tsdb, settings.history_refresh)
        self.notifier = notifier
        self._settings = settings

    def run(self) -> int:
        """Evaluate, escalate, notify; returns how many alarm transitions were made."""
        now = self._clock.now()
        book: ThresholdBook = self._store.thresholds()
        longest_tamper = timedelta(days=1)
        tampers = self._store.last_signals("tamper", now - longest_tamper)
        twins = list(self._twins())
        raised = self._store.raised_rules()
        share = port_share(twins)
        results = []
        for twin in twins:
            municipality = twin.attributes.municipality
            th = book.for_bench(twin.bench_id, municipality)
            facts, complete = self.facts.facts(twin, now, th, tampers.get(twin.bench_id), share)
            found = evaluate(facts, th, raised.get(twin.bench_id, frozenset()))
            # Unknown is not "fine": without histories the history rules' alarms neither raise nor clear.
            unknown = frozenset() if complete else HISTORY_RULES
            results.append(BenchFindings(twin.bench_id, municipality, found, unknown))
        made = self._store.observe(results, now)
        made += self._store.escalate_due(now, self._settings.escalate_after)
        if self.notifier is not None:
            self.notifier.run(now)
        return made
