"""Scheduled jobs of the server (APScheduler): health sweeps now; reports and rollouts plug in here later."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

from fleet.event_bus import EventBus
from fleet.events import TwinChanged
from fleet.twin_repo import TwinRepository
from twins.clock import Clock
from twins.health import Severity

log = logging.getLogger(__name__)


class HealthSweep:
    """Re-evaluates every twin's health; announces the twins whose status changed with time alone.

    Ingestion only re-evaluates a twin when a message arrives: a bench that falls silent would
    never turn "stale" on the dashboards without this sweep.
    """

    def __init__(self, repo: TwinRepository, bus: EventBus, clock: Clock) -> None:
        self._repo = repo
        self._bus = bus
        self._clock = clock
        self._last: dict[str, Severity] = {}

    def run(self) -> int:
        """One sweep; returns how many twins changed status."""
        now = self._clock.now()
        changed = 0
        for twin in self._repo.all():
            status = twin.health(now).status
            if self._last.get(twin.bench_id, status) != status:
                self._bus.publish(TwinChanged(twin, "health"))
                changed += 1
            self._last[twin.bench_id] = status
        return changed


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job."""

    name: str
    every_s: float
    fn: Callable[[], object]


def build_scheduler(jobs: list[Job]) -> BackgroundScheduler:
    """An APScheduler with each job on an interval trigger (never overlapping itself)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(job.fn, "interval", seconds=job.every_s, id=job.name, max_instances=1, coalesce=True)
    return scheduler
