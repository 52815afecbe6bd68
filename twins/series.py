"""Time-series points: the store-neutral shape of what goes into the TSDB."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
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


# Looked up once: this runs for every ingested sample. (TSDB field, value_fn) of every metric but the per-kind
# port sums; those as (TSDB field, port kind, index of the reading in _READINGS).
_FIELD_FNS = tuple((m.field, m.value_fn) for m in METRICS if m.port_sum is None)
_READINGS = tuple(PORT_READINGS)
_READ_PORT = attrgetter(*_READINGS)
_PORT_SUMS = tuple((m.field, m.port_sum.kind, _READINGS.index(m.port_sum.reading)) for m in METRICS if m.port_sum)


def telemetry_points(sample: Telemetry, municipality: str) -> list[SeriesPoint]:
    """The TSDB points of one telemetry sample: ONE wide ``telemetry`` point holding every metric and ``seq``.

    One point per sample (not one per port as before) is what costs influxd least: one series key, one
    timestamp, one index entry per sample. Fields come from the metric table (twins/metrics.py); the per-kind
    port sums are added up in one pass over the ports (the same sums, in the same order, as their value_fns).
    """
    fields: dict[str, FieldValue] = {name: v for name, value_fn in _FIELD_FNS if (v := value_fn(sample)) is not None}
    sums: dict[str, list[MetricValue]] = {}
    for port in sample.ports:
        total = sums.get(port.kind)
        if total is None:
            total = sums[port.kind] = list(PORT_READINGS.values())
        for i, value in enumerate(_READ_PORT(port)):
            total[i] += value
    for name, kind, i in _PORT_SUMS:
        if (total := sums.get(kind)) is not None:
            fields[name] = total[i]
    fields[SEQ_FIELD] = sample.seq
    return [SeriesPoint(TELEMETRY, {"bench_id": sample.bench_id, "municipality": municipality}, fields, sample.ts)]


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
