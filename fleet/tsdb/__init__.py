"""Time-series stores: InfluxDB (v1 HTTP API) and embedded SQLite, and the spooling writer in front of them."""

from fleet.tsdb.base import TimeSeriesStore, TsdbError, TsdbRejected, TsdbUnavailable
from fleet.tsdb.factory import open_tsdb
from fleet.tsdb.retention import RetentionJob, RetentionReport
from fleet.tsdb.rollup import period_sum
from fleet.tsdb.writer import SpoolingWriter, WriterStats

__all__ = [
    "RetentionJob",
    "RetentionReport",
    "SpoolingWriter",
    "TimeSeriesStore",
    "TsdbError",
    "TsdbRejected",
    "TsdbUnavailable",
    "WriterStats",
    "open_tsdb",
    "period_sum",
]
