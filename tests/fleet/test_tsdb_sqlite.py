"""The embedded SQLite time-series store: file layout, WAL, index use, persistence, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.tsdb import TsdbRejected
from fleet.tsdb.sqlite_store import SqliteStore, sqlite_path
from twins.series import SeriesPoint

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def telemetry(bench: str, seq: int) -> SeriesPoint:
    """A telemetry point of ``bench`` one second per seq after T0."""
    return SeriesPoint(
        "telemetry",
        {"bench_id": bench, "municipality": "Mostar"},
        {"seq": seq, "battery_soc_pct": 50.0 + seq % 10},
        T0 + timedelta(seconds=seq),
    )


def test_url_forms() -> None:
    """sqlite:///relative, sqlite:////absolute and :memory:; anything else names the setting."""
    assert sqlite_path("sqlite:///data/series.db") == "data/series.db"
    assert sqlite_path("sqlite:////var/lib/x.db") == "/var/lib/x.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    for bad in ("sqlite://", "sqlite:///", "sqlite:/x.db"):
        with pytest.raises(ValueError, match="BENCHFLEET_TSDB"):
            sqlite_path(bad)


def test_wal_mode_and_persistence(tmp_path: Path) -> None:
    """The file is in WAL mode and the points (and field types) survive closing and reopening."""
    path = tmp_path / "sub" / "series.sqlite3"
    store = SqliteStore(path)
    store.write([telemetry("mostar-01", i) for i in range(10)])
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = SqliteStore(path)
    assert reopened.last("telemetry", "seq", {"bench_id": "mostar-01"}) == (T0 + timedelta(seconds=9), 9.0)
    assert reopened.describe() == f"sqlite {path}"
    reopened.close()


def test_queries_use_the_series_field_time_key(tmp_path: Path) -> None:
    """A bench's field over a time range is a primary-key range search, not a table scan."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    store.write([telemetry(f"bench-{b:02d}", i) for b in range(20) for i in range(50)])
    plan = " ".join(
        row[3]
        for row in store._db.execute(
            "EXPLAIN QUERY PLAN SELECT avg(value) FROM points WHERE series_id IN (1, 2) AND field = ? "
            "AND ts >= ? AND ts < ?",
            ("seq", 0, 10**13),
        )
    )
    assert "SEARCH points USING PRIMARY KEY (series_id=? AND field=? AND ts>? AND ts<?)" in plan
    tag_plan = " ".join(
        row[3]
        for row in store._db.execute(
            "EXPLAIN QUERY PLAN SELECT series_id FROM series_tags WHERE key = ? AND value = ?", ("bench_id", "x")
        )
    )
    assert "SEARCH series_tags USING PRIMARY KEY (key=? AND value=?)" in tag_plan
    store.close()


def test_concurrent_writers_and_readers(tmp_path: Path) -> None:
    """Threads writing and reading one store at once lose nothing and see no errors."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    errors: list[BaseException] = []

    def work(bench: str) -> None:
        try:
            for i in range(0, 200, 20):
                store.write([telemetry(bench, j) for j in range(i, i + 20)])
                store.last("telemetry", "seq", {"bench_id": bench})
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(f"bench-{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    for n in range(4):
        samples = store.query_series(
            "telemetry", "seq", {"bench_id": f"bench-{n}"}, T0, T0 + timedelta(seconds=200), timedelta(seconds=100)
        )
        assert [s.value for s in samples] == [49.5, 149.5]
    store.close()


def test_naive_timestamps_are_refused(tmp_path: Path) -> None:
    """A naive datetime is a bug upstream: the error says so instead of guessing a zone."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    with pytest.raises(TsdbRejected, match="timezone-aware"):
        store.write([SeriesPoint("telemetry", {}, {"v": 1.0}, datetime(2026, 1, 1))])
    with pytest.raises(ValueError, match="timezone-aware"):
        store.query_series("telemetry", "v", {}, datetime(2026, 1, 1), T0, timedelta(minutes=1))
    store.close()
