"""Both time-series stores give the same answers for the same points (real influxd, real SQLite)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.tsdb import TimeSeriesStore, TsdbRejected, open_tsdb
from tests.services import InfluxService
from tests.twins.samples import telemetry_doc
from twins.messages import Telemetry
from twins.metrics import METRICS
from twins.series import SERIES_FIELDS, SeriesPoint, SeriesSample, telemetry_points

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["influxdb", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    """Each test runs once against InfluxDB and once against the SQLite store."""
    if request.param == "influxdb":
        influx: InfluxService = request.getfixturevalue("influxdb")
        opened = open_tsdb(influx.url)
    else:
        opened = open_tsdb(f"sqlite:///{tmp_path / 'series.sqlite3'}")
    yield opened
    opened.close()


@pytest.fixture
def bench() -> str:
    """A bench id unique to the test, so tests sharing the session's influxd never see each other's points."""
    return f"parity-{uuid.uuid4().hex[:10]}"


def telemetry(bench: str, ts: datetime, **fields: float | int | bool | str) -> SeriesPoint:
    """A telemetry point of ``bench``."""
    return SeriesPoint("telemetry", {"bench_id": bench, "municipality": "Mostar"}, fields, ts)


def values(samples: list[SeriesSample]) -> list[float | None]:
    """The values of a series, rounded so float summation order cannot differ between stores."""
    return [None if s.value is None else round(s.value, 9) for s in samples]


def test_mean_per_epoch_aligned_bucket(store: TimeSeriesStore, bench: str) -> None:
    """Means per 5-minute bucket aligned to the epoch; the first bucket holds only points >= start."""
    # One point a minute, soc = minute index.
    store.write([telemetry(bench, T0 + timedelta(minutes=i), battery_soc_pct=float(i)) for i in range(20)])
    start = T0 + timedelta(minutes=2, seconds=30)
    samples = store.query_series(
        "telemetry", "battery_soc_pct", {"bench_id": bench}, start, T0 + timedelta(minutes=17), timedelta(minutes=5)
    )
    assert [s.ts for s in samples] == [T0 + timedelta(minutes=m) for m in (0, 5, 10, 15)]
    # bucket 0: minutes 3,4 -> 3.5; 5..9 -> 7; 10..14 -> 12; 15,16 -> 15.5 (end is exclusive)
    assert values(samples) == [3.5, 7.0, 12.0, 15.5]


def test_empty_buckets_are_none(store: TimeSeriesStore, bench: str) -> None:
    """A gap in the data gives None buckets, not missing ones."""
    store.write(
        [
            telemetry(bench, T0, solar_power_w=10.0),
            telemetry(bench, T0 + timedelta(minutes=1), solar_power_w=20.0),
            telemetry(bench, T0 + timedelta(minutes=3), solar_power_w=40.0),
        ]
    )
    samples = store.query_series(
        "telemetry", "solar_power_w", {"bench_id": bench}, T0, T0 + timedelta(minutes=4), timedelta(minutes=1)
    )
    assert values(samples) == [10.0, 20.0, None, 40.0]


def test_integer_fields_average_to_floats(store: TimeSeriesStore, bench: str) -> None:
    """Integer fields (wifi_clients) average like numbers."""
    store.write([telemetry(bench, T0 + timedelta(seconds=10 * i), wifi_clients=i) for i in range(6)])
    samples = store.query_series(
        "telemetry", "wifi_clients", {"bench_id": bench}, T0, T0 + timedelta(minutes=1), timedelta(seconds=30)
    )
    assert values(samples) == [1.0, 4.0]


def test_tag_subset_averages_over_matching_series(store: TimeSeriesStore, bench: str) -> None:
    """Filtering on bench_id only averages over all of that bench's ports; adding port_id narrows it."""
    points = [
        SeriesPoint(
            "port",
            {"bench_id": bench, "municipality": "Mostar", "port_id": port, "kind": kind},
            {"active": port == "usb-1", "power_w": power, "sessions_today": 3},
            T0,
        )
        for port, kind, power in (("usb-1", "usb", 7.5), ("qi-1", "wireless", 2.5), ("scooter-1", "scooter", 0.0))
    ]
    store.write(points)
    end, every = T0 + timedelta(minutes=1), timedelta(minutes=1)
    assert values(store.query_series("port", "power_w", {"bench_id": bench}, T0, end, every)) == [round(10 / 3, 9)]
    only_usb = {"bench_id": bench, "port_id": "usb-1"}
    assert values(store.query_series("port", "power_w", only_usb, T0, end, every)) == [7.5]
    assert store.last("port", "active", only_usb) == (T0, 1.0)
    assert store.last("port", "active", {"bench_id": bench, "port_id": "qi-1"}) == (T0, 0.0)


def test_last_value_including_future_points(store: TimeSeriesStore, bench: str) -> None:
    """last() is the newest point, even one stamped ahead of the wall clock (accelerated simulation)."""
    future = datetime(2099, 1, 1, tzinfo=UTC)
    store.write([telemetry(bench, T0, battery_voltage_v=12.5), telemetry(bench, future, battery_voltage_v=13.25)])
    assert store.last("telemetry", "battery_voltage_v", {"bench_id": bench}) == (future, 13.25)


def test_nothing_there(store: TimeSeriesStore, bench: str) -> None:
    """Unknown series: last() is None and every bucket is None."""
    assert store.last("telemetry", "battery_soc_pct", {"bench_id": bench}) is None
    samples = store.query_series(
        "telemetry", "battery_soc_pct", {"bench_id": bench}, T0, T0 + timedelta(hours=1), timedelta(minutes=30)
    )
    assert values(samples) == [None, None]
    assert store.query_series("telemetry", "battery_soc_pct", {"bench_id": bench}, T0, T0, timedelta(minutes=1)) == []


def test_same_point_twice_overwrites(store: TimeSeriesStore, bench: str) -> None:
    """A replayed point (same series, field and ms) replaces the first instead of counting twice."""
    store.write([telemetry(bench, T0, load_power_w=10.0)])
    store.write(
        [telemetry(bench, T0, load_power_w=30.0), telemetry(bench, T0 + timedelta(seconds=1), load_power_w=50.0)]
    )
    samples = store.query_series(
        "telemetry", "load_power_w", {"bench_id": bench}, T0, T0 + timedelta(minutes=1), timedelta(minutes=1)
    )
    assert values(samples) == [40.0]


def test_millisecond_precision(store: TimeSeriesStore, bench: str) -> None:
    """Timestamps keep milliseconds and drop microseconds, in both stores."""
    ts = T0 + timedelta(milliseconds=123, microseconds=456)
    store.write([telemetry(bench, ts, battery_temp_c=21.5)])
    assert store.last("telemetry", "battery_temp_c", {"bench_id": bench}) == (
        T0 + timedelta(milliseconds=123),
        21.5,
    )


def test_non_finite_values_are_dropped(store: TimeSeriesStore, bench: str) -> None:
    """NaN and infinity cannot be stored: the field is dropped, the point's other fields kept."""
    store.write(
        [
            telemetry(bench, T0, battery_current_a=math.nan, battery_soc_pct=50.0),
            telemetry(bench, T0 + timedelta(seconds=1), battery_current_a=math.inf),
        ]
    )
    assert store.last("telemetry", "battery_current_a", {"bench_id": bench}) is None
    assert store.last("telemetry", "battery_soc_pct", {"bench_id": bench}) == (T0, 50.0)


def test_booleans_cannot_be_averaged(store: TimeSeriesStore, bench: str) -> None:
    """InfluxQL refuses mean() over booleans; the SQLite store refuses it the same way."""
    tags = {"bench_id": bench, "municipality": "Mostar", "port_id": "usb-1", "kind": "usb"}
    store.write([SeriesPoint("port", tags, {"active": True}, T0)])
    with pytest.raises(TsdbRejected):
        store.query_series("port", "active", {"bench_id": bench}, T0, T0 + timedelta(minutes=1), timedelta(minutes=1))


def test_field_type_conflict_is_a_partial_write(store: TimeSeriesStore, bench: str) -> None:
    """A value of another type than the field's first one is rejected; the batch's good points are kept."""
    measurement = f"conflict_{uuid.uuid4().hex[:8]}"
    tags = {"bench_id": bench}
    store.write([SeriesPoint(measurement, tags, {"x": 1.5}, T0)])
    with pytest.raises(TsdbRejected, match="conflict"):
        store.write(
            [
                SeriesPoint(measurement, tags, {"x": "text"}, T0 + timedelta(seconds=1)),
                SeriesPoint(measurement, tags, {"x": 2.5}, T0 + timedelta(seconds=2)),
            ]
        )
    assert store.last(measurement, "x", tags) == (T0 + timedelta(seconds=2), 2.5)


def test_vote_counts_sum_per_option(store: TimeSeriesStore, bench: str) -> None:
    """Vote points (count=1) with distinct timestamps average to 1 per bucket and are found by option."""
    tags = {"bench_id": bench, "municipality": "Mostar", "poll_id": "park-2026"}
    store.write(
        [
            SeriesPoint("vote", {**tags, "option": opt}, {"count": 1}, T0 + timedelta(seconds=i))
            for i, opt in enumerate("yny")
        ]
    )
    assert store.last("vote", "count", {**tags, "option": "n"}) == (T0 + timedelta(seconds=1), 1.0)
    assert store.last("vote", "count", {**tags, "option": "y"}) == (T0 + timedelta(seconds=2), 1.0)


def test_ping_and_describe(store: TimeSeriesStore) -> None:
    """A reachable store pings True and describes itself in one line."""
    assert store.ping()
    text = store.describe()
    assert "\n" not in text
    assert text.startswith(("influxdb v1 http://127.0.0.1:", "sqlite "))


def test_wide_telemetry_points_answer_every_series_field(store: TimeSeriesStore, bench: str) -> None:
    """One wide point per sample (twins.series.telemetry_points): every API field reads back the same in both stores."""
    docs = [telemetry_doc(bench_id=bench, when=T0 + timedelta(minutes=i), seq=i) for i in range(4)]
    for i, doc in enumerate(docs):
        doc["battery"]["soc_pct"] = 50.0 + i
        doc["ports"][0]["power_w"] = 2.0 * i
    samples = [Telemetry.model_validate_json(json.dumps(doc)) for doc in docs]
    store.write([p for s in samples for p in telemetry_points(s, "Mostar")])
    end, every = T0 + timedelta(minutes=4), timedelta(minutes=2)
    for key, (measurement, field) in SERIES_FIELDS.items():
        expected = [m.value_fn(s) for s in samples for m in METRICS if m.key == key]
        means = [(float(expected[0]) + float(expected[1])) / 2, (float(expected[2]) + float(expected[3])) / 2]
        got = store.query_series(measurement, field, {"bench_id": bench}, T0, end, every)
        assert values(got) == [round(v, 9) for v in means], key
        assert store.last(measurement, field, {"municipality": "Mostar", "bench_id": bench}) == (
            samples[-1].ts,
            float(expected[-1]),
        ), key
    assert values(store.query_series(*SERIES_FIELDS["battery.soc_pct"], {"bench_id": bench}, T0, end, every)) == [
        50.5,
        52.5,
    ]
