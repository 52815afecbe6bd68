"""Data lifecycle on a real influxd and the SQLite store: a year of history, raw points kept 7 days.

After the retention job ran, raw points older than the retention are gone, and the hourly and daily
aggregates still answer the 30-day and 1-year charts and a report over the year with the values the raw
points gave before they were deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboards.bench_data import bench_figures
from dashboards.figures.bench_charts import RANGES
from fleet.tsdb.influx_v1 import InfluxV1Store
from fleet.tsdb.retention import RetentionJob
from fleet.tsdb.rollup import period_sum
from fleet.tsdb.sqlite_store import SqliteStore
from simulator.backfill_run import run_backfill
from simulator.sites import fleet_sites
from tests.services import InfluxService
from twins.clock import ManualClock
from twins.series import SERIES_FIELDS, SeriesPoint, SeriesSample
from twins.twin import Attributes, new_twin

Store = InfluxV1Store | SqliteStore

END = datetime(2026, 6, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
RETENTION = timedelta(days=7)
STEP = timedelta(minutes=15)  # the backfill's sample interval
GAUGES = ("battery.soc_pct", "solar.power_w", "wifi.clients")
COUNTER = "ports.sessions_today"


@pytest.fixture(scope="module")
def own_influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxService]:
    """An influxd of this module alone: the retention job deletes whole measurements' old points."""
    server = InfluxService(tmp_path_factory.mktemp("influxd-retention"))
    server.start()
    yield server
    server.stop()


def _influx(server: InfluxService) -> InfluxV1Store:
    """A store on a fresh database of ``server`` (each test its own)."""
    name = f"lifecycle_{uuid.uuid4().hex[:8]}"
    store = InfluxV1Store.from_url(server.url)
    store._results(f'CREATE DATABASE "{name}"', method="POST")  # set-up through the same HTTP API
    store.close()
    return InfluxV1Store.from_url(f"{server.url.rsplit('/', 1)[0]}/{name}")


@pytest.fixture(params=["influxdb", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each test runs against a real influxd and against the SQLite store."""
    opened: Store
    if request.param == "influxdb":
        opened = _influx(request.getfixturevalue("own_influxd"))
    else:
        opened = SqliteStore(tmp_path / "series.sqlite3")
    yield opened
    opened.close()


Answer = float | list[SeriesSample]


def assert_same(got: dict[object, Answer], expected: dict[object, Answer]) -> None:
    """Equal answers up to float summation order (Σsum/Σcount against avg, influxd against SQLite)."""
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key]
        if isinstance(want, list):
            assert isinstance(have, list)
            assert [s.ts for s in have] == [s.ts for s in want], key
            assert [s.value is None for s in have] == [s.value is None for s in want], key
            assert [s.value for s in have] == pytest.approx([s.value for s in want], rel=1e-9, abs=1e-9), key
        else:
            assert have == pytest.approx(want, rel=1e-9), key


@pytest.mark.slow
def test_a_year_survives_retention_in_both_stores(own_influxd: InfluxService, tmp_path: Path) -> None:
    """Parity: the same simulated year in influxd and SQLite; after retention both answer as the raw data did."""
    stores: list[Store] = [_influx(own_influxd), SqliteStore(tmp_path / "series.sqlite3")]
    sites = fleet_sites(2, seed=3)

    def write_both(points: object) -> None:
        for s in stores:
            s.write(points)  # type: ignore[arg-type]

    run_backfill(sites, 3, END, YEAR, write_both, progress=False)
    start = END - YEAR
    benches = [{"bench_id": s.bench_id} for s in sites] + [{}]  # each bench, and the whole fleet averaged
    queries = [
        (field, tags, every, fn)
        for field in (*GAUGES, COUNTER)
        for tags in benches
        for every, fn in ((DAY, "mean"), (DAY, "max"), (2 * HOUR, "mean"))
    ]

    def answers(s: Store) -> dict[object, Answer]:
        found: dict[object, Answer] = {}
        for field, tags, every, fn in queries:
            span = YEAR if every == DAY else timedelta(days=30)
            key = (field, tuple(tags.items()), every, fn)
            found[key] = s.query_series("telemetry", field, tags, END - span, END, every, fn)  # type: ignore[arg-type]
        for tags in benches:
            for field in ("solar.power_w", "ports.usb.power_w"):
                found[("sum", field, tuple(tags.items()))] = period_sum(s, "telemetry", field, tags, start, END)
        return found

    before = [answers(s) for s in stores]
    assert_same(before[1], before[0])  # the raw points answer the same in both stores
    year_chart = before[0][("battery.soc_pct", (("bench_id", sites[0].bench_id),), DAY, "mean")]
    assert isinstance(year_chart, list)
    assert len(year_chart) == 365
    assert all(s.value is not None and 0 <= s.value <= 100 for s in year_chart)
    assert before[0][("sum", "solar.power_w", ())] > 0

    now = END + timedelta(minutes=20)
    for s in stores:
        report = RetentionJob(s, ManualClock(now), RETENTION).run()
        assert report.raw_deleted_before == now - RETENTION
        assert report.aggregate_points == 2 * (365 * 24 + 365)  # per bench: every hour and every day of the year
        oldest = s.oldest("telemetry")
        assert oldest is not None
        assert now - RETENTION <= oldest < now - RETENTION + timedelta(minutes=15)
        raw_left = s.query_raw("telemetry", "battery.soc_pct", {}, start, END, DAY, "count")
        kept = [END - k * STEP for k in range(1, 35041) if END - k * STEP >= now - RETENTION]
        assert sum(v.value or 0 for v in raw_left) == 2 * len(kept)
    for s, expected in zip(stores, before, strict=True):
        assert_same(answers(s), expected)
    # Rerunning is harmless: the same aggregates are written again, nothing more is deleted.
    for s in stores:
        RetentionJob(s, ManualClock(now), RETENTION).run()
    for s, expected in zip(stores, before, strict=True):
        assert_same(answers(s), expected)
    for s in stores:
        s.close()


def point(ts: datetime, soc: float, sessions: int, bench: str = "mostar-01") -> SeriesPoint:
    """A telemetry point with one gauge and one counter."""
    return SeriesPoint(
        "telemetry", {"bench_id": bench, "municipality": "Mostar"}, {"battery.soc_pct": soc, COUNTER: sessions}, ts
    )


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_incremental_runs_late_points_and_the_raw_tail(store: Store) -> None:
    """Completed hours are rolled up; the hour in progress is read raw; a late point within the lookback counts."""
    minutes = 10
    store.write([point(T0 + i * timedelta(minutes=minutes), float(i), i) for i in range(3 * 24 * 6)])  # 3 days
    clock = ManualClock(T0 + timedelta(days=2, minutes=30))
    job = RetentionJob(store, clock, timedelta(days=1))
    report = job.run()
    assert report.aggregate_points == 2 * 24 + 2  # 48 hours and 2 days completed
    # Cutoff: one day back (and never past the progress of an aggregate, which is further on here).
    assert report.raw_deleted_before == T0 + timedelta(days=1, minutes=30)
    hourly = store.query_series("telemetry", "battery.soc_pct", {}, T0, T0 + timedelta(days=3), HOUR)
    # Hour h holds samples 6h..6h+5: mean 6h + 2.5, from the aggregate before the cutoff and raw after.
    assert [s.value for s in hourly] == [6 * h + 2.5 for h in range(72)]
    last_of_day = store.query_series("telemetry", f"{COUNTER}", {}, T0, T0 + 2 * DAY, DAY, "max")
    assert [s.value for s in last_of_day] == [143.0, 287.0]
    aggregate_last = store.query_raw("telemetry_1d", f"{COUNTER}.last", {}, T0, T0 + 2 * DAY, DAY)
    assert [s.value for s in aggregate_last] == [143.0, 287.0]

    # A late point for an hour already rolled up (within the 2 h lookback) is included by the next run.
    store.write([point(T0 + timedelta(days=2, minutes=5), 1000.0, 0, bench="late")])
    clock.advance(timedelta(hours=1))
    second = job.run()
    assert second.aggregate_points > 0
    day3_first_hour = store.query_series("telemetry", "battery.soc_pct", {}, T0 + 2 * DAY, T0 + 2 * DAY + HOUR, HOUR)
    mean_with_late = (sum(288 + i for i in range(6)) + 1000.0) / 7
    assert day3_first_hour[0].value == pytest.approx(mean_with_late)
    hour_49 = (T0 + 2 * DAY, T0 + 2 * DAY + HOUR)
    counts = store.query_raw("telemetry_1h", "battery.soc_pct.count", {}, *hour_49, HOUR, "sum")
    assert counts[0].value == 7.0  # six samples of mostar-01 and the late bench's one, in two aggregate points
    assert store.last("rollup", "until_ms", {"target": "telemetry_1h"}) is not None


def test_nothing_to_do_and_bad_retention(store: Store) -> None:
    """An empty store: nothing rolled up, nothing deleted. A retention under one day is refused."""
    report = RetentionJob(store, ManualClock(T0), timedelta(days=2)).run()
    assert report.aggregate_points == 0
    assert report.raw_deleted_before is None
    with pytest.raises(ValueError, match="at least one day"):
        RetentionJob(store, ManualClock(T0), timedelta(hours=12))


def test_period_sum_needs_whole_hours(store: Store) -> None:
    """A report period must start and end on whole hours; over whole hours it sums every raw value."""
    store.write([point(T0 + i * timedelta(minutes=30), 2.0, i) for i in range(8)])
    assert period_sum(store, "telemetry", "battery.soc_pct", {}, T0, T0 + 4 * HOUR) == 16.0
    with pytest.raises(ValueError, match="whole hours"):
        period_sum(store, "telemetry", "battery.soc_pct", {}, T0 + timedelta(minutes=1), T0 + HOUR)


class StoreFleet:
    """The two FleetApi calls the bench charts make, answered by a real store (as FleetService does)."""

    def __init__(self, store: Store, now: datetime) -> None:
        self._store = store
        self._now = now

    def now(self) -> datetime:
        return self._now

    def series(self, bench_id: str, field: str, start: datetime, end: datetime, every: timedelta) -> list[SeriesSample]:
        measurement, name = SERIES_FIELDS[field]
        return self._store.query_series(measurement, name, {"bench_id": bench_id}, start, end, every)


def test_year_chart_of_the_bench_page_reads_the_daily_aggregate(store: Store) -> None:
    """The 365-day bench chart is drawn from the daily aggregate once the raw points of those days are gone."""
    start = T0 - timedelta(days=60)
    samples = [point(start + i * timedelta(hours=3), float(i % 100), i % 8) for i in range(60 * 8)]
    store.write(samples)
    now = T0 + timedelta(hours=5)
    twin = new_twin(
        "mostar-01", Attributes(name="Bench 1", municipality="Mostar", lat=43.34, lon=17.81, altitude_m=60.0)
    )
    before = bench_figures(StoreFleet(store, now), twin, RANGES["365d"])  # type: ignore[arg-type]
    RetentionJob(store, ManualClock(now), timedelta(days=2)).run()
    assert store.query_raw("telemetry", "battery.soc_pct", {}, start, T0 - 3 * DAY, DAY, "count")[0].value is None
    after = bench_figures(StoreFleet(store, now), twin, RANGES["365d"])  # type: ignore[arg-type]
    soc_before, soc_after = before["battery"]["data"][0]["y"], after["battery"]["data"][0]["y"]
    assert len(soc_after) == 366  # the day holding now - 365 d, through today
    assert sum(v is not None for v in soc_after) == 60
    assert soc_after == pytest.approx(soc_before)
    assert after["battery"]["data"][0]["x"] == before["battery"]["data"][0]["x"]


def test_votes_are_kept(store: Store) -> None:
    """Only raw telemetry expires: a vote point a year old is still there after retention ran."""
    old = T0 - YEAR
    vote = SeriesPoint("vote", {"bench_id": "mostar-01", "poll_id": "park", "option": "yes"}, {"count": 1}, old)
    store.write([vote, point(old, 50.0, 1), point(T0, 60.0, 2)])
    report = RetentionJob(store, ManualClock(T0 + HOUR), timedelta(days=30)).run()
    assert report.raw_deleted_before == T0 + HOUR - timedelta(days=30)
    assert store.oldest("telemetry") == T0
    assert store.last("vote", "count", {"poll_id": "park"}) == (old, 1.0)
    yearly = store.query_series("telemetry", "battery.soc_pct", {}, old, T0 + HOUR, DAY)
    assert [s.value for s in yearly if s.value is not None] == [50.0, 60.0]  # the old day from its aggregate
