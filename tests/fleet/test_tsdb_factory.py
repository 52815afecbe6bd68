"""open_tsdb picks the store from the BENCHFLEET_TSDB URL and explains a bad one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fleet.tsdb import open_tsdb
from fleet.tsdb.base import bucket_starts, from_ms, to_ms
from fleet.tsdb.influx_v1 import InfluxV1Store
from fleet.tsdb.sqlite_store import SqliteStore


def test_sqlite_url(tmp_path: Path) -> None:
    """sqlite:///path opens the embedded store at that path."""
    store = open_tsdb(f"sqlite:///{tmp_path / 'series.db'}")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "series.db").exists()
    store.close()


@pytest.mark.parametrize("scheme", ["influxdb", "influxdbs"])
def test_influx_urls(scheme: str) -> None:
    """influxdb:// and influxdbs:// open the v1 HTTP store (no connection is made until used)."""
    store = open_tsdb(f"{scheme}://tsdb.example:8086/benchfleet")
    assert isinstance(store, InfluxV1Store)
    assert store.describe().startswith(f"influxdb v1 {'https' if scheme == 'influxdbs' else 'http'}://tsdb.example")
    store.close()


@pytest.mark.parametrize("url", ["", "localhost:8086", "postgresql://x/y", "influx://h/db", "mysql://u:topsecret@h/db"])
def test_bad_urls(url: str) -> None:
    """Anything else is one ValueError naming BENCHFLEET_TSDB and the accepted forms, without passwords."""
    with pytest.raises(ValueError, match="BENCHFLEET_TSDB") as err:
        open_tsdb(url)
    assert "sqlite:///path" in str(err.value)
    assert "topsecret" not in str(err.value)


def test_bucket_alignment_matches_influxql() -> None:
    """Buckets start on multiples of ``every`` since the epoch and cover [start, end)."""
    start, end = from_ms(1_000_123), from_ms(1_600_000)
    assert bucket_starts(start, end, timedelta(seconds=300)) == [900_000, 1_200_000, 1_500_000]
    assert bucket_starts(start, start, timedelta(seconds=1)) == []
    assert to_ms(from_ms(-1500)) == -1500
    with pytest.raises(ValueError, match="whole number of milliseconds"):
        bucket_starts(start, end, timedelta(microseconds=1500))
    with pytest.raises(ValueError, match="at most"):
        bucket_starts(from_ms(0), from_ms(10**12), timedelta(milliseconds=1))
