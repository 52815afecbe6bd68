"""The time-series store interface, its errors and the semantics every store shares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from twins.series import FieldValue, SeriesPoint, SeriesSample

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
# A guard against a typo such as every=1ms over a year (31 billion buckets): refuse, don't allocate.
MAX_BUCKETS = 100_000

#: What ``query_series`` computes per bucket; ``mean`` unless asked otherwise (reports ask for ``sum``).
Aggregate = Literal["mean", "sum", "min", "max", "count"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "sum", "min", "max", "count")


class TsdbError(Exception):
    """Base of every time-series store error."""


class TsdbUnavailable(TsdbError):
    """The store cannot be reached or is overloaded (refused, timeout, 5xx): retry later, keep the data."""


class TsdbRejected(TsdbError):
    """The store refused the data or query itself (4xx): retrying the same thing can never succeed."""


class TimeSeriesStore(Protocol):
    """A store of SeriesPoints answering downsampled series and last values.

    Semantics shared by every implementation (tests/fleet/test_tsdb_parity.py holds them equal):
    timestamps are kept at millisecond precision; a point with the same measurement, tag set, field and
    timestamp overwrites the earlier value; non-finite floats and empty tag values are dropped (as the
    line protocol encoder does); a field keeps the type of its first value (float, integer, boolean or
    string) and values of another type are rejected.
    """

    def write(self, points: Sequence[SeriesPoint]) -> None:
        """Store the points synchronously; raise TsdbUnavailable (retry) or TsdbRejected (bad data)."""
        ...

    def query_series(
        self,
        measurement: str,
        field: str,
        tags: Mapping[str, str],
        start: datetime,
        end: datetime,
        every: timedelta,
        fn: Aggregate = "mean",
    ) -> list[SeriesSample]:
        """Mean (or ``fn``) of ``field`` per ``every`` bucket over [start, end) for points matching ``tags``.

        Buckets are aligned to the Unix epoch like InfluxQL ``GROUP BY time(every)``: the first sample
        is the bucket containing ``start``, the last the bucket containing the last instant before
        ``end``. Empty buckets are returned with value None (InfluxQL ``fill(null)``). Rolled-up
        measurements are read from their hourly or daily aggregates when ``every`` allows it
        (fleet/tsdb/rollup.py), so the answer does not depend on whether raw points are still kept.
        """
        ...

    def last(self, measurement: str, field: str, tags: Mapping[str, str]) -> tuple[datetime, float] | None:
        """Latest (timestamp, value) of ``field`` among points matching ``tags``; None if there is none."""
        ...

    def query_raw(
        self,
        measurement: str,
        field: str,
        tags: Mapping[str, str],
        start: datetime,
        end: datetime,
        every: timedelta,
        fn: Aggregate = "mean",
    ) -> list[SeriesSample]:
        """``query_series`` over the points as stored, never choosing an aggregate instead."""
        ...

    # -- lifecycle: what fleet/tsdb/retention.py needs ----------------------------------------------
    def aggregate(self, measurement: str, start: datetime, end: datetime, every: timedelta) -> list[SeriesPoint]:
        """One point per (series, non-empty bucket) over [start, end) with ``<field>.<stat>`` for each stat.

        Stats: mean, min, max, sum, count (an integer) and last, of every numeric field; floats otherwise.
        """
        ...

    def oldest(self, measurement: str) -> datetime | None:
        """Timestamp of the oldest point of ``measurement``; None if it has none."""
        ...

    def delete_before(self, measurement: str, before: datetime) -> None:
        """Delete every point of ``measurement`` stamped before ``before``."""
        ...

    def ping(self) -> bool:
        """Tell whether the store answers right now (never raises)."""
        ...

    def describe(self) -> str:
        """One line naming the store and where it is, without secrets (for logs and /healthz)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (exact integer arithmetic, floor)."""
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()}: time-series timestamps must be timezone-aware")
    return (ts - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime of milliseconds since the epoch."""
    return EPOCH + ms * ONE_MS


def every_ms(every: timedelta) -> int:
    """Bucket width in whole milliseconds (at least 1 ms)."""
    width = every // ONE_MS
    if width < 1 or every % ONE_MS:
        raise ValueError(f"every={every} must be a positive whole number of milliseconds")
    return width


def bucket_starts(start: datetime, end: datetime, every: timedelta) -> list[int]:
    """Epoch-aligned bucket starts (ms) covering [start, end), as InfluxQL GROUP BY time() makes them."""
    width = every_ms(every)
    start_ms, end_ms = to_ms(start), to_ms(end)
    if end_ms <= start_ms:
        return []
    first = start_ms - start_ms % width
    last = (end_ms - 1) - (end_ms - 1) % width
    count = (last - first) // width + 1
    if count > MAX_BUCKETS:
        raise ValueError(f"{count} buckets of {every} between {start} and {end}: at most {MAX_BUCKETS}")
    return list(range(first, last + 1, width))


def fill_buckets(buckets: Sequence[int], means: Mapping[int, float]) -> list[SeriesSample]:
    """SeriesSamples for every bucket start, None where the store had no value."""
    return [SeriesSample(ts=from_ms(b), value=means.get(b)) for b in buckets]


def field_type(value: FieldValue) -> str:
    """The stored type of a field value, named as InfluxDB names them."""
    # bool before int: bool is a subclass of int in Python but a distinct type in the TSDB.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise TypeError(f"field value {value!r} of type {type(value).__name__} is not float, int, bool or str")


def clean_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags without empty values (the line protocol cannot carry an empty tag value)."""
    return {k: v for k, v in tags.items() if v != ""}


def clean_fields(fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """Fields without NaN or infinite floats (the line protocol cannot carry them)."""
    return {k: v for k, v in fields.items() if not (isinstance(v, float) and not math.isfinite(v))}


def numeric(value: object, what: str) -> float:
    """A stored value as float (booleans as 1.0/0.0), or TsdbRejected naming ``what``."""
    if isinstance(value, bool | int | float):
        return float(value)
    raise TsdbRejected(f"{what} holds {type(value).__name__} values, not numbers")
