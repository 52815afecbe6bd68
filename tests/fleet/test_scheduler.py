"""The health sweep turns a silent bench stale without any message arriving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleet.event_bus import EventBus
from fleet.events import FleetEvent, TwinChanged
from fleet.ingest.pipeline import RawMessage
from fleet.registry import default_fleet
from fleet.scheduler import HealthSweep, Job, build_scheduler
from fleet.state.cache import TwinCache
from tests.fleet.ingest_kit import pipeline_kit
from tests.payloads import dumps, telemetry
from tests.waiting import wait_until
from twins.clock import ManualClock


def test_sweep_announces_a_bench_going_stale(tmp_path: Path, db_url: str) -> None:
    start = datetime(2026, 11, 26, 10, 0, 1, tzinfo=UTC)
    clock = ManualClock(start)
    with pipeline_kit(tmp_path, db_url) as kit:
        kit.pipeline.handle(
            [
                RawMessage(f"benches/{r.bench_id}/telemetry", dumps(telemetry(r.bench_id, ts="2026-11-26T10:00:00Z")))
                for r in default_fleet()
            ]
        )
        repo = TwinCache(kit.twins)
        repo.reload()
    bus = EventBus()
    seen: list[FleetEvent] = []
    bus.subscribe(seen.append)
    sweep = HealthSweep(repo, bus, clock)

    assert sweep.run() == 0  # first sweep only learns the statuses
    clock.advance(timedelta(seconds=30))
    assert sweep.run() == 0
    clock.advance(timedelta(minutes=5))  # > 3 × 60 s: every bench is now stale (warning)
    assert sweep.run() == 12
    assert {e.twin.bench_id for e in seen if isinstance(e, TwinChanged)} == {r.bench_id for r in default_fleet()}
    assert all(isinstance(e, TwinChanged) and e.section == "health" for e in seen)
    assert sweep.run() == 0  # announced once, not at every sweep


def test_scheduler_runs_jobs_on_interval() -> None:
    ran: list[int] = []
    scheduler = build_scheduler([Job("tick", 0.05, lambda: ran.append(1))])
    scheduler.start()
    try:
        wait_until(lambda: len(ran) >= 2, timeout=5, message="job ran twice")
    finally:
        scheduler.shutdown(wait=False)
    assert len(ran) >= 2
