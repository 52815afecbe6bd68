"""Hourly and daily aggregates of the telemetry, and the reads that pick them for long ranges.

Raw telemetry is kept a few days (fleet/tsdb/retention.py deletes the rest); what answers a long range
is one aggregate point per series and hour (``telemetry_1h``) or day (``telemetry_1d``). Each carries
per metric ``<key>.sum`` and ``<key>.count`` (so any coarser mean is the exact mean of the raw points:
Σsum / Σcount, whatever the sample rate), ``<key>.mean`` and ``<key>.max``, and ``<key>.min`` for gauges or
``<key>.last`` for counters (a ``*_today`` counter's last value of a day is that day's total).

How far each aggregate is complete is itself a point: measurement ``rollup``, tag ``target``, field
``until_ms``, stamped at that instant. A read splits there: buckets before come from the aggregate,
the rest from the raw points, so the newest hours show before they are rolled up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from fleet.tsdb.base import Aggregate, TimeSeriesStore, every_ms, from_ms, to_ms
from twins.metrics import METRICS, MetricKind
from twins.series import FieldValue, SeriesPoint, SeriesSample

Stat = Literal["mean", "min", "max", "sum", "count", "last"]

#: Every statistic a store computes per (series, field, bucket); the kind of metric decides which are kept.
STATS: tuple[Stat, ...] = ("mean", "min", "max", "sum", "count", "last")
#: Kept per metric kind: sum and count always (exact means of any coarser bucket).
KEPT: Mapping[MetricKind, tuple[Stat, ...]] = {
    "gauge": ("mean", "min", "max", "sum", "count"),
    "counter": ("mean", "max", "last", "sum", "count"),
}
#: Rolled-up measurements and the kind of each field that gets aggregates (the metric table).
ROLLED_UP: Mapping[str, Mapping[str, MetricKind]] = {"telemetry": {m.field: m.kind for m in METRICS}}
#: The measurement recording how far each aggregate is complete.
PROGRESS = "rollup"
PROGRESS_FIELD = "until_ms"


@dataclass(frozen=True, slots=True)
class Resolution:
    """One aggregate resolution: its bucket width and how much raw time one aggregation query covers."""

    name: str
    every: timedelta
    chunk: timedelta


#: Finest first. A chunk bounds the size of one aggregation answer during a catch-up (a year of backfill).
RESOLUTIONS: tuple[Resolution, ...] = (
    Resolution("1h", timedelta(hours=1), timedelta(days=1)),
    Resolution("1d", timedelta(days=1), timedelta(days=7)),
)

#: How an aggregate answers each ``query_series`` function: (stat field, function over it); mean is Σsum/Σcount.
_AGG_READ: Mapping[Aggregate, tuple[Stat, Aggregate]] = {
    "sum": ("sum", "sum"),
    "count": ("count", "sum"),
    "min": ("min", "min"),
    "max": ("max", "max"),
}


class RawQuery(Protocol):
    """A store's own bucketed query over stored points, without the aggregate choice."""

    def __call__(
        self,
        measurement: str,
        field: str,
        tags: Mapping[str, str],
        start: datetime,
        end: datetime,
        every: timedelta,
        fn: Aggregate = "mean",
    ) -> list[SeriesSample]:
        """Per-bucket ``fn`` of ``field`` over [start, end) from the points as stored."""
        ...


class LastQuery(Protocol):
    """A store's ``last``."""

    def __call__(self, measurement: str, field: str, tags: Mapping[str, str]) -> tuple[datetime, float] | None:
        """Newest (timestamp, value) of ``field``."""
        ...


def target(measurement: str, resolution: Resolution) -> str:
    """Name of the aggregate measurement (``telemetry_1h``)."""
    return f"{measurement}_{resolution.name}"


def stat_field(field: str, stat: Stat) -> str:
    """Name of a statistic's field in an aggregate point (``battery.soc_pct.mean``)."""
    return f"{field}.{stat}"


def kept_fields(measurement: str, fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """The aggregate fields worth keeping: the KEPT stats of the measurement's metrics, nothing else."""
    kinds = ROLLED_UP.get(measurement, {})
    keep = {stat_field(f, stat) for f, kind in kinds.items() for stat in KEPT[kind]}
    return {k: v for k, v in fields.items() if k in keep}


def floor_ms(ms: int, width: int) -> int:
    """``ms`` rounded down to a multiple of ``width`` (epoch-aligned, also before 1970)."""
    return ms - ms % width


def resolution_for(measurement: str, field: str, every: timedelta) -> Resolution | None:
    """The coarsest aggregate whose buckets tile ``every`` exactly; None when raw points must answer."""
    if field not in ROLLED_UP.get(measurement, {}):
        return None
    for res in reversed(RESOLUTIONS):
        if every >= res.every and every % res.every == timedelta(0):
            return res
    return None


def progress(last: LastQuery, measurement: str, resolution: Resolution) -> datetime | None:
    """Until when the aggregate of ``measurement`` at ``resolution`` is complete; None before the first run."""
    found = last(PROGRESS, PROGRESS_FIELD, {"target": target(measurement, resolution)})
    return None if found is None else found[0]


def progress_point(measurement: str, resolution: Resolution, until: datetime) -> SeriesPoint:
    """The point recording that the aggregate is complete until ``until``."""
    return SeriesPoint(PROGRESS, {"target": target(measurement, resolution)}, {PROGRESS_FIELD: to_ms(until)}, until)


def read_series(
    raw: RawQuery,
    last: LastQuery,
    measurement: str,
    field: str,
    tags: Mapping[str, str],
    start: datetime,
    end: datetime,
    every: timedelta,
    fn: Aggregate = "mean",
) -> list[SeriesSample]:
    """``query_series`` for any store: buckets before the aggregate's progress from it, the rest from raw points."""
    res = resolution_for(measurement, field, every)
    until = None if res is None else progress(last, measurement, res)
    if res is None or until is None:
        return raw(measurement, field, tags, start, end, every, fn)
    # Buckets starting before `split` hold only completed aggregate buckets (every is a multiple of res.every).
    split = from_ms(floor_ms(to_ms(until), every_ms(every)))
    if split <= start:
        return raw(measurement, field, tags, start, end, every, fn)
    head_end = min(split, end)
    head = _aggregate_series(raw, target(measurement, res), field, tags, start, head_end, every, fn)
    if head_end >= end:
        return head
    return head + raw(measurement, field, tags, head_end, end, every, fn)


def _aggregate_series(
    raw: RawQuery,
    source: str,
    field: str,
    tags: Mapping[str, str],
    start: datetime,
    end: datetime,
    every: timedelta,
    fn: Aggregate,
) -> list[SeriesSample]:
    """Per-bucket ``fn`` from an aggregate measurement (mean weighted by each hour's or day's point count)."""
    if fn != "mean":
        stat, over = _AGG_READ[fn]
        return raw(source, stat_field(field, stat), tags, start, end, every, over)
    sums = raw(source, stat_field(field, "sum"), tags, start, end, every, "sum")
    counts = raw(source, stat_field(field, "count"), tags, start, end, every, "sum")
    return [
        SeriesSample(ts=s.ts, value=None if not c.value or s.value is None else s.value / c.value)
        for s, c in zip(sums, counts, strict=True)
    ]


def period_sum(
    store: TimeSeriesStore, measurement: str, field: str, tags: Mapping[str, str], start: datetime, end: datetime
) -> float:
    """The sum of every raw value of ``field`` over [start, end), read from the daily or hourly aggregates.

    For reports (energy, sessions, samples over a month or a year): the answer is the same before and
    after the raw points are deleted. The period must cover whole hours (UTC), so the aggregates cover it
    exactly; whole days read the daily aggregate (365 buckets for a year).
    """
    res = next((r for r in reversed(RESOLUTIONS) if _aligned(start, r) and _aligned(end, r)), None)
    if res is None:
        raise ValueError(f"report period {start.isoformat()} .. {end.isoformat()} must start and end on whole hours")
    return sum(s.value or 0.0 for s in store.query_series(measurement, field, tags, start, end, res.every, "sum"))


def _aligned(ts: datetime, res: Resolution) -> bool:
    return to_ms(ts) % every_ms(res.every) == 0
