"""A real ingestion pipeline for tests: the fleet database at a URL (PostgreSQL by default), SQLite TSDB behind
the spooling writer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from fleet.db.engine import make_engine
from fleet.db.store import SqlStore
from fleet.event_bus import EventBus
from fleet.events import FleetEvent
from fleet.ingest.metrics import IngestMetrics
from fleet.ingest.pipeline import IngestPipeline
from fleet.registry import default_fleet
from fleet.state.cache import TwinCache
from fleet.state.twin_store import TwinStore
from fleet.state.writes import TwinWrites
from fleet.tsdb.sqlite_store import SqliteStore
from fleet.tsdb.writer import SpoolingWriter
from tests.twins.samples import T0, carrying_polls, payload
from twins.clock import ManualClock
from twins.codec import RejectReason
from twins.messages import Reported


@dataclass
class Kit:
    """Everything a pipeline test looks at."""

    pipeline: IngestPipeline
    twins: TwinStore
    store: SqlStore
    tsdb: SqliteStore
    writer: SpoolingWriter
    metrics: IngestMetrics
    clock: ManualClock
    events: list[FleetEvent] = field(default_factory=list)

    def rejected(self, reason: RejectReason | str) -> float:
        """Rejected messages with that reason."""
        value = self.metrics.registry.get_sample_value(
            "benchfleet_messages_rejected_total", {"reason": RejectReason(reason).value}
        )
        return value or 0.0

    def rejected_by_reason(self) -> dict[str, float]:
        """Every non-zero rejected counter."""
        return {r.value: n for r in RejectReason if (n := self.rejected(r))}

    def counter(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A counter's value (``_total`` appended)."""
        return self.metrics.registry.get_sample_value(f"{name}_total", labels or {}) or 0.0

    def messages_in(self) -> float:
        """Messages in, over every kind label."""
        total = 0.0
        for metric in self.metrics.registry.collect():
            if metric.name == "benchfleet_messages_in":
                total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
        return total

    def carry_polls(self) -> None:
        """Every seed bench has the sample poll in force (reported an hour before T0): its votes count."""
        carrying = TwinWrites()
        for record in default_fleet():
            doc = carrying_polls(record.bench_id, T0 - timedelta(hours=1))
            carrying.offer_reported(Reported.model_validate_json(payload(doc)))
        self.twins.apply_batch(carrying, T0)

    def series(self, measurement: str, fld: str, bench_id: str, around: datetime = T0) -> list[float]:
        """Every stored value (1-second buckets) of a field within an hour of ``around``."""
        samples = self.tsdb.query_series(
            measurement,
            fld,
            {"bench_id": bench_id},
            around - timedelta(hours=1),
            around + timedelta(hours=1),
            timedelta(seconds=1),
        )
        return [s.value for s in samples if s.value is not None]


@contextmanager
def pipeline_kit(
    folder: Path, db_url: str | None = None, *, auto_register: bool = False, listen: bool = True
) -> Iterator[Kit]:
    """A pipeline over the 12 seed benches, its clock at T0 + 1 s (SQLite in ``folder`` without ``db_url``)."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_url or f"sqlite:///{folder / 'fleet.db'}")
    store = SqlStore(engine)
    store.create_schema()
    twins = TwinStore(engine)
    twins.register(default_fleet(), T0)
    tsdb = SqliteStore(folder / "series.db")
    writer = SpoolingWriter(tsdb, folder / "spool")
    metrics = IngestMetrics()
    clock = ManualClock(T0 + timedelta(seconds=1))
    events: list[FleetEvent] = []
    # Wired as a process with pages is: its cache turns the pipeline's TwinsMoved into TwinChanged events.
    bus = EventBus()
    bus.subscribe(TwinCache(twins, notify=bus.inject).on_event)
    if listen:
        bus.subscribe(events.append)
    pipeline = IngestPipeline(twins, writer, metrics, clock, bus.publish, auto_register=auto_register)
    kit = Kit(pipeline, twins, store, tsdb, writer, metrics, clock, events)
    try:
        yield kit
    finally:
        writer.close()
        tsdb.close()
        engine.dispose()
