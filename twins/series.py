"""Time-series points: the store-neutral shape of what goes into the TSDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import add, attrgetter, itemgetter
from typing import Any, Protocol, overload

from twins.messages import BenchEvent, Telemetry, VoteEvent
from twins.metrics import METRICS, PORT_READINGS, MetricValue

FieldValue = float | int | bool | str

#: The measurement of telemetry points (tags ``bench_id`` and ``municipality``).
TELEMETRY = "telemetry"
#: The field holding the sample's per-boot sequence number (bookkeeping, not a metric).
SEQ_FIELD = "seq"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point: measurement, tags (indexed strings), fields (values) and a UTC timestamp."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    ts: datetime


class Column(Protocol):
    """A column of values (a numpy array, or anything with these methods): what ``SeriesColumns`` holds."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Any: ...

    def tolist(self) -> list[Any]: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, eq=False)
class SeriesColumns(Sequence[SeriesPoint]):
    """Many points of ONE series (measurement and tags) held as columns: ``ts_ms[i]`` with ``fields[f][i]``.

    A ``Sequence[SeriesPoint]``: whatever takes points takes it (the points are made one by one on
    access), while a store that knows the shape writes the columns as they are (InfluxV1Store encodes
    line protocol column-wise, fleet/tsdb/line_protocol.py ``encode_columns``). Slicing gives columns again.
    A column's values are what a point's field would hold (float, int, bool or str after ``tolist()``);
    a None drops that field from that point, as in a ``SeriesPoint``.
    """

    measurement: str
    tags: Mapping[str, str]
    ts_ms: Column
    """Timestamps, integer milliseconds since the epoch (UTC)."""
    fields: Mapping[str, Column]
    """Field name → its column, each as long as ``ts_ms``."""

    def __len__(self) -> int:
        return len(self.ts_ms)

    @overload
    def __getitem__(self, index: int) -> SeriesPoint: ...

    @overload
    def __getitem__(self, index: slice) -> SeriesColumns: ...

    def __getitem__(self, index: int | slice) -> SeriesPoint | SeriesColumns:
        if isinstance(index, slice):
            return SeriesColumns(
                self.measurement,
                self.tags,
                self.ts_ms[index],
                {name: column[index] for name, column in self.fields.items()},
            )
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"point {index} of {n}")
        return self[i : i + 1].points()[0]

    def __iter__(self) -> Iterator[SeriesPoint]:
        return iter(self.points())

    def points(self) -> list[SeriesPoint]:
        """The points, one per row (None values left out of each point's fields)."""
        names = list(self.fields)
        stamps = [_EPOCH + timedelta(milliseconds=ms) for ms in self.ts_ms.tolist()]
        rows = zip(*(self.fields[name].tolist() for name in names), strict=True) if names else ((),) * len(stamps)
        return [
            SeriesPoint(
                self.measurement,
                self.tags,
                {name: value for name, value in zip(names, row, strict=True) if value is not None},
                stamp,
            )
            for stamp, row in zip(stamps, rows, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class SeriesSample:
    """One value of a downsampled series: bucket start and the mean in it (None for an empty bucket)."""

    ts: datetime
    value: float | None


# Looked up once: this runs for every ingested sample. Every metric is either one attribute of the sample
# (``Metric.path``: all read by one C-level attrgetter) or a sum over ports (``Metric.port_sum``).
_PATH_METRICS = tuple(m for m in METRICS if m.path is not None)
_READ_PATHS = attrgetter(*(m.path for m in _PATH_METRICS if m.path is not None))
_READINGS = tuple(PORT_READINGS)
_STARTS: tuple[MetricValue, ...] = tuple(PORT_READINGS.values())
_READ_PORT = attrgetter(*_READINGS)
if any(m.path is None and m.port_sum is None for m in METRICS):
    raise RuntimeError("every metric is read by path or summed over ports: telemetry_values knows no other kind")


@dataclass(frozen=True, slots=True, eq=False)
class FieldLayout:
    """The fields of a telemetry point whose ports have kinds in one order: names sorted (as line protocol
    writes them), and for each the position of its value in the sample's flat tuple of values."""

    keys: tuple[str, ...]
    pick: Callable[[tuple[MetricValue, ...]], tuple[MetricValue, ...]]


def _layout(kinds: tuple[str, ...]) -> FieldLayout:
    """The layout for ports of ``kinds`` (in first-seen order). The flat tuple: the path metrics, ``seq``, then
    the readings summed over every port, then over each kind's ports."""
    at = {m.field: i for i, m in enumerate(_PATH_METRICS)}
    at[SEQ_FIELD] = len(_PATH_METRICS)
    groups: tuple[str | None, ...] = (None, *kinds)
    for m in METRICS:
        if m.port_sum is not None and m.port_sum.kind in groups:
            group = groups.index(m.port_sum.kind)
            at[m.field] = len(_PATH_METRICS) + 1 + group * len(_READINGS) + _READINGS.index(m.port_sum.reading)
    keys = tuple(sorted(at))
    return FieldLayout(keys, itemgetter(*(at[k] for k in keys)))


_LAYOUTS: dict[tuple[str, ...], FieldLayout] = {}  # at most one per order of the few port kinds


def telemetry_values(sample: Telemetry) -> tuple[FieldLayout, tuple[MetricValue, ...]]:
    """Every metric's value in ``sample`` and its ``seq``, in the order of the layout's (sorted) field names:
    what each ``value_fn`` gives, computed in one pass (the port sums in port order, from the same start)."""
    total = _STARTS
    sums: dict[str, tuple[MetricValue, ...]] = {}
    for port in sample.ports:
        readings = _READ_PORT(port)
        total = tuple(map(add, total, readings))
        sums[port.kind] = tuple(map(add, sums.get(port.kind, _STARTS), readings))
    kinds = tuple(sums)
    layout = _LAYOUTS.get(kinds)
    if layout is None:
        layout = _LAYOUTS[kinds] = _layout(kinds)
    flat = (*_READ_PATHS(sample), sample.seq, *total, *chain.from_iterable(sums.values()))
    return layout, layout.pick(flat)


def telemetry_fields(sample: Telemetry) -> dict[str, FieldValue]:
    """The fields of ``sample``'s point, by TSDB field name, in sorted order."""
    layout, values = telemetry_values(sample)
    return dict(zip(layout.keys, values, strict=True))


def telemetry_points(sample: Telemetry, municipality: str) -> list[SeriesPoint]:
    """The TSDB points of one telemetry sample: ONE wide ``telemetry`` point holding every metric and ``seq``.

    One point per sample (not one per port as before) is what costs influxd least: one series key, one
    timestamp, one index entry per sample. Fields come from the metric table (twins/metrics.py).
    """
    tags = telemetry_tags(sample.bench_id, municipality)
    return [SeriesPoint(TELEMETRY, tags, telemetry_fields(sample), sample.ts)]


def telemetry_tags(bench_id: str, municipality: str) -> dict[str, str]:
    """The tags of a telemetry point."""
    return {"bench_id": bench_id, "municipality": municipality}


@dataclass(frozen=True, slots=True, eq=False)
class SampledPoints(Sequence[SeriesPoint]):
    """The points of telemetry samples (``telemetry_points`` of each, made on access) followed by other points.

    A ``Sequence[SeriesPoint]`` that any store takes; a store that knows it writes the samples directly
    (InfluxV1Store: fleet/tsdb/line_protocol.py ``encode_batch``), one line per sample without a SeriesPoint
    or a fields dict in between: making and then encoding those was a third of an ingest worker's CPU.
    """

    samples: Sequence[tuple[Telemetry, str]]
    """Each sample with its bench's municipality (a tag of its point)."""
    others: Sequence[SeriesPoint] = ()

    def __len__(self) -> int:
        return len(self.samples) + len(self.others)

    @overload
    def __getitem__(self, index: int) -> SeriesPoint: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SeriesPoint]: ...

    def __getitem__(self, index: int | slice) -> SeriesPoint | Sequence[SeriesPoint]:
        n = len(self.samples)
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return self.points()[index]
            stop = max(start, stop)
            return SampledPoints(self.samples[start:stop], self.others[max(start - n, 0) : max(stop - n, 0)])
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(f"point {index} of {len(self)}")
        if i < n:
            return telemetry_points(*self.samples[i])[0]
        return self.others[i - n]

    def __iter__(self) -> Iterator[SeriesPoint]:
        return iter(self.points())

    def points(self) -> list[SeriesPoint]:
        """Every point, the samples' first."""
        return [p for sample, municipality in self.samples for p in telemetry_points(sample, municipality)] + list(
            self.others
        )


def vote_point(event: VoteEvent, municipality: str) -> SeriesPoint:
    """The TSDB point of one counted vote (for turnout over time).

    Points with equal series and millisecond overwrite each other, and kiosks stamp whole seconds: the
    millisecond is taken from the event id, so two votes in one second rarely collide (1 in 1,000), and a
    redelivered vote lands on the same point again (turnout counts it once).
    """
    ts = event.ts.replace(microsecond=(event.id.int % 1000) * 1000)
    return SeriesPoint(
        "vote",
        {
            "bench_id": event.bench_id,
            "municipality": municipality,
            "poll_id": event.data.poll_id,
            "option": event.data.option,
        },
        {"count": 1},
        ts,
    )


def event_point(event: BenchEvent, municipality: str) -> SeriesPoint:
    """The TSDB point of a bench event other than a vote (port session, tamper, boot, ...): its id and data as JSON."""
    return SeriesPoint(
        "event",
        {"bench_id": event.bench_id, "municipality": municipality, "type": event.type},
        {"id": str(event.id), "data": event.data.model_dump_json()},
        event.ts,
    )


#: API field names (the metric keys) → (measurement, field) in the TSDB; what the series API accepts.
SERIES_FIELDS: dict[str, tuple[str, str]] = {m.key: (TELEMETRY, m.field) for m in METRICS}
