"""Issue 8, item 5: TSDB refusals and spooled points show in /metrics, against a real influxd and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.db.engine import make_engine
from fleet.db.store import SqlStore
from fleet.ingest.metrics import IngestMetrics
from fleet.ingest.pipeline import IngestPipeline, RawMessage
from fleet.registry import default_fleet
from fleet.state.twin_store import TwinStore
from fleet.tsdb.influx_v1 import InfluxV1Store
from fleet.tsdb.writer import SpoolingWriter
from tests.services import InfluxService
from tests.twins.samples import T0, payload, telemetry_doc
from twins.clock import ManualClock
from twins.series import SeriesPoint


@dataclass
class Rig:
    pipeline: IngestPipeline
    metrics: IngestMetrics
    writer: SpoolingWriter
    store: InfluxV1Store

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.metrics.registry.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def rig(tmp_path: Path, db_url: str, fresh_influxdb: InfluxService) -> Iterator[Rig]:
    engine = make_engine(db_url)
    SqlStore(engine).create_schema()
    twins = TwinStore(engine)
    twins.register(default_fleet(), T0)
    store = InfluxV1Store.from_url(fresh_influxdb.url)
    clock = ManualClock(T0 + timedelta(seconds=1))
    # A long backoff: the spool is replayed only when the test says so (retry_now).
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock, initial_backoff_s=3600, max_backoff_s=3600)
    metrics = IngestMetrics()
    metrics.watch_writer(writer.pending, writer.stats.snapshot)
    try:
        yield Rig(IngestPipeline(twins, writer, metrics, clock), metrics, writer, store)
    finally:
        writer.close()
        store.close()
        engine.dispose()


def sample(seq: int) -> RawMessage:
    return RawMessage("benches/mostar-01/telemetry", payload(telemetry_doc(seq=seq)))


def test_a_refused_line_is_counted_as_refused_not_written(rig: Rig) -> None:
    # The series' "seq" field already holds a string: InfluxDB refuses the integer (field type conflict).
    rig.store.write([SeriesPoint("telemetry", {"bench_id": "mostar-01", "municipality": "Mostar"}, {"seq": "x"}, T0)])
    rig.pipeline.handle([sample(1)])
    assert rig.value("benchfleet_points_written_total") == 0
    assert rig.value("benchfleet_points_refused_total") == 1
    assert rig.value("benchfleet_tsdb_points_total", {"outcome": "rejected"}) == 1
    assert b"benchfleet_points_refused_total 1.0" in rig.metrics.render()


def test_spooled_points_show_in_the_gauge_until_replayed(rig: Rig, fresh_influxdb: InfluxService) -> None:
    fresh_influxdb.stop()
    rig.pipeline.handle([sample(1), sample(2)])
    assert rig.value("benchfleet_tsdb_spool_points") == 2
    assert rig.value("benchfleet_tsdb_points_total", {"outcome": "spooled"}) == 2
    assert rig.value("benchfleet_points_written_total") == 2  # durable on disk, not refused
    assert rig.value("benchfleet_tsdb_write_failures_total") >= 1
    fresh_influxdb.start()
    rig.writer.retry_now()
    assert rig.writer.flush(timeout=30)
    assert rig.value("benchfleet_tsdb_spool_points") == 0
    assert rig.value("benchfleet_tsdb_points_total", {"outcome": "replayed"}) == 2
