"""Time-series points: the store-neutral shape of what goes into the TSDB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from twins.messages import BenchEvent, Telemetry, VoteEvent
from twins.metrics import METRICS

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


@dataclass(frozen=True, slots=True)
class SeriesSample:
    """One value of a downsampled series: bucket start and the mean in it (None for an empty bucket)."""

    ts: datetime
    value: float | None


# (TSDB field, value_fn) of every metric, looked up once: this runs for every ingested sample.
_FIELD_FNS = tuple((m.field, m.value_fn) for m in METRICS)


def telemetry_points(sample: Telemetry, municipality: str) -> list[SeriesPoint]:
    """The TSDB points of one telemetry sample: ONE wide ``telemetry`` point holding every metric and ``seq``.

    One point per sample (not one per port as before) is what costs influxd least: one series key, one
    timestamp, one index entry per sample. Fields come from the metric table (twins/metrics.py).
    """
    fields: dict[str, FieldValue] = {name: v for name, value_fn in _FIELD_FNS if (v := value_fn(sample)) is not None}
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
