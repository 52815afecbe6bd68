"""Wiring of the server process: stores, ingestion, publisher and service (used by serve and demo)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from fleet.backup import BackupJob
from fleet.db.engine import make_engine
from fleet.db.migrate import ensure_schema
from fleet.db.store import SqlStore
from fleet.desired_publisher import DesiredPublisher
from fleet.event_bus import EventBus
from fleet.gc_policy import tune_gc
from fleet.ingest.metrics import IngestMetrics
from fleet.ingest.mqtt_source import MqttSource
from fleet.ingest.pipeline import IngestPipeline
from fleet.ingest.worker import IngestWorker
from fleet.leader_lock import leader_lock_for
from fleet.ops.alarm_job import AlarmJob
from fleet.ops.alarms import AlarmStore, SignalRecorder
from fleet.ops.audit import AuditLog
from fleet.ops.commands import CommandService, CommandTimeouts
from fleet.ops.notify import Notifier
from fleet.ops.releases import ReleaseStore
from fleet.ops.rollouts import OTA_COMMAND_TIMEOUT, RolloutJob, RolloutService
from fleet.registry import default_fleet
from fleet.reports.delivery import DeliveryContext
from fleet.reports.schedule import ReportDelivery
from fleet.scheduler import HealthSweep, Job, SchedulerLeader
from fleet.service import FleetService
from fleet.settings import Settings, parse_mqtt_url
from fleet.state.cache import TwinCache
from fleet.state.desired import DesiredPublication
from fleet.state.twin_store import TwinStore
from fleet.state.votes import VoteRate
from fleet.tsdb.base import TimeSeriesStore
from fleet.tsdb.factory import open_tsdb
from fleet.tsdb.retention import RetentionJob
from fleet.tsdb.writer import SpoolingWriter
from twins.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class FleetRuntime:
    """Every long-lived part of a server process, started and stopped together."""

    settings: Settings
    clock: Clock
    engine: Engine
    store: SqlStore
    twins: TwinStore
    cache: TwinCache
    tsdb: TimeSeriesStore
    writer: SpoolingWriter
    metrics: IngestMetrics
    bus: EventBus
    pipeline: IngestPipeline
    source: MqttSource
    worker: IngestWorker
    publisher: DesiredPublisher
    publication: DesiredPublication
    service: FleetService
    scheduler: SchedulerLeader
    rollouts: RolloutService
    alarms: AlarmStore | None = None

    @property
    def repo(self) -> TwinCache:
        """The process's read copy of the twins (wave-1 name; SQL owns them: ``twins``)."""
        return self.cache

    def start(self) -> None:
        """Connect to the broker, start ingesting and the scheduled jobs."""
        tune_gc()
        self.cache.start()
        self.worker.start()
        self.source.start()
        self.publisher.start()
        self.scheduler.start()

    def republish_desired(self) -> int:
        """Publish every changed desired config again, each under its bench's lock (idempotent: benches
        ignore versions they have)."""
        self.publisher.connected.wait(10)
        count = 0
        now = self.clock.now()
        for twin in self.twins.list_twins():
            if twin.desired_version > 0:
                self.publication.publish_latest(twin.bench_id, now)
                count += 1
        return count

    def stop(self) -> None:
        """Stop ingesting (what is unacknowledged is redelivered later), close the stores."""
        self.scheduler.stop()
        self.source.stop()
        self.worker.stop()
        self.cache.stop()
        self.publisher.stop()
        self.writer.close()
        self.tsdb.close()
        self.engine.dispose()


def _probe_broker(source: MqttSource, settings: Settings) -> dict[str, Any]:
    return {"ok": source.connected.is_set(), "url": settings.mqtt_url.redacted()}


def build_runtime(
    settings: Settings,
    clock: Clock,
    *,
    mqtt_url: str | None = None,
    auto_migrate: bool = False,
    live: bool = True,
) -> FleetRuntime:
    """Open the stores (an empty database gets the schema; an older one raises SchemaOutdated unless
    ``auto_migrate``), seed the 12 default benches into an empty registry and wire ingestion.
    ``live``: this process shows twins live (serve, dashboard, demo), so moved twins are read at once."""
    url = settings.mqtt_url if mqtt_url is None else parse_mqtt_url(mqtt_url)
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    _ensure_sqlite_dirs(settings.db, settings.tsdb)

    engine = make_engine(settings.db)
    try:
        ensure_schema(engine, auto_upgrade=auto_migrate)
    except Exception:
        engine.dispose()
        raise
    store = SqlStore(engine)
    twins = TwinStore(engine, VoteRate(limit=settings.vote_rate_limit))
    if store.count_benches() == 0:
        seeded = twins.register(default_fleet(), clock.now())
        log.info("empty registry seeded with the %d default benches", seeded)
    twins.ensure_rows(clock.now())
    bus = EventBus()
    # A process with pages (serve, dashboard) turns ingestion's TwinsMoved into twins at once; an ingest
    # worker's cache reads them only when its scheduler asks.
    cache = TwinCache(twins, notify=bus.inject if live else None)
    cache.reload()

    tsdb = open_tsdb(settings.tsdb)
    writer = SpoolingWriter(tsdb, data_dir / "tsdb-spool")
    metrics = IngestMetrics()
    metrics.watch_writer(writer.pending, writer.stats.snapshot)
    bus.subscribe(cache.on_event)  # first: listeners after it that read the fleet list see the change
    audit = AuditLog(engine, clock)
    alarms = AlarmStore(engine, audit=audit.record)  # acknowledgements are logged in their own transaction
    pipeline = IngestPipeline(
        twins,
        writer,
        metrics,
        clock,
        bus.publish,
        auto_register=settings.auto_register,
        on_bench_event=SignalRecorder(alarms),
    )
    source = MqttSource(url, settings.ingest_client_id, settings.share_group)
    worker = IngestWorker(source.queue, pipeline, source.ack)
    publisher = DesiredPublisher(url, f"{settings.ingest_client_id}-desired")
    probes = {
        "broker": lambda: _probe_broker(source, settings),
        "tsdb": lambda: {"ok": tsdb.ping(), "store": tsdb.describe(), "spooled_points": writer.pending()},
        "database": lambda: {"ok": store.ping(), "store": store.describe()},
    }
    publication = DesiredPublication(twins, publisher)
    commands = CommandService(engine, publisher, audit, clock)
    service = FleetService(
        twins, cache, store, tsdb, publication, metrics, bus, clock, probes, audit=audit, commands=commands
    )
    # Firmware goes out as ``ota`` commands sent by rollouts only (operators cannot send ``ota`` by hand).
    ota_commands = CommandService(engine, publisher, audit, clock, timeouts={"ota": OTA_COMMAND_TIMEOUT})
    releases = ReleaseStore(engine, audit, clock)
    rollouts = RolloutService(engine, twins, service, audit, clock, releases=releases, commands=ota_commands)
    service.rollouts = rollouts
    alarm_job = AlarmJob(twins.list_twins, alarms, clock, tsdb=tsdb, notifier=Notifier(engine, settings.smtp_settings))
    # Jobs run in one process at a time, whichever process dies (docs/roles.md).
    scheduler = SchedulerLeader(
        leader_lock_for(settings.db, data_dir),
        [
            Job("health_sweep", 15.0, HealthSweep(cache, bus, clock).run),
            Job("command_timeouts", 5.0, CommandTimeouts(engine, clock).run),
            Job("retention", 600.0, RetentionJob(tsdb, clock, timedelta(days=settings.raw_retention_days)).run),
            Job("backup", 600.0, BackupJob.from_settings(settings, clock).run),
            Job("rollouts", 5.0, RolloutJob(rollouts).run),
            Job("alarms", 60.0, alarm_job.run),
        ],
        name=settings.ingest_client_id,
        services=_report_delivery(settings, engine, tsdb, clock, data_dir),
    )
    return FleetRuntime(
        settings,
        clock,
        engine,
        store,
        twins,
        cache,
        tsdb,
        writer,
        metrics,
        bus,
        pipeline,
        source,
        worker,
        publisher,
        publication,
        service,
        scheduler,
        rollouts,
        alarms,
    )


def _report_delivery(
    settings: Settings, engine: Engine, tsdb: TimeSeriesStore, clock: Clock, data_dir: Path
) -> list[ReportDelivery]:
    """The monthly report e-mail, run by the scheduler's leader; none without BENCHFLEET_SMTP (nowhere to send)."""
    smtp = settings.smtp_settings
    if smtp is None:
        return []
    ctx = DeliveryContext(
        engine,
        tsdb,
        smtp,
        data_dir / "reports",
        clock,
        settings.report_language_map,
        settings.chromium or None,
    )
    return [ReportDelivery(ctx)]


def _ensure_sqlite_dirs(*urls: str) -> None:
    for url in urls:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
