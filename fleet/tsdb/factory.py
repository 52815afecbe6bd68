"""Open the configured time-series store from its BENCHFLEET_TSDB URL."""

from __future__ import annotations

from collections.abc import Callable

from fleet.tsdb.base import TimeSeriesStore
from fleet.tsdb.influx_v1 import InfluxV1Store, mask_url
from fleet.tsdb.sqlite_store import SqliteStore

SETTING = "BENCHFLEET_TSDB"

# URL scheme -> opener; a new store type is one more row, not another branch.
OPENERS: dict[str, Callable[[str], TimeSeriesStore]] = {
    "influxdb": InfluxV1Store.from_url,
    "influxdbs": InfluxV1Store.from_url,
    "sqlite": SqliteStore.from_url,
}


def open_tsdb(url: str) -> TimeSeriesStore:
    """Open the store named by ``url``; ValueError naming BENCHFLEET_TSDB and the accepted forms if it is bad."""
    scheme, sep, _rest = url.partition("://")
    opener = OPENERS.get(scheme.lower()) if sep else None
    if opener is None:
        raise ValueError(
            f"{SETTING}={mask_url(url)!r} is not a time-series store URL; use "
            "influxdb://[user:pass@]host:8086/db[?token=...] (influxdbs:// for HTTPS) or sqlite:///path"
        )
    return opener(url)
