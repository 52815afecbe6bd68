"""Scheduled jobs of the server (APScheduler), run by exactly one process at a time (SchedulerLeader)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from fleet.event_bus import EventBus
from fleet.events import TwinChanged
from fleet.leader_lock import LeaderLock
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


class LeaderService(Protocol):
    """Something only the leader runs besides the interval jobs (e.g. the monthly reports' own scheduler)."""

    def start(self) -> None:
        """Start it (this process just became the leader)."""
        ...

    def stop(self) -> None:
        """Stop it (this process steps down or ends); must be harmless when not started."""
        ...


class SchedulerLeader:
    """Runs the jobs only while this process holds the leader lock; the others retry every ``retry_s``.

    Whichever process dies, its lock goes with it (PostgreSQL ends the session, the kernel the flock),
    so another process takes over within ``retry_s`` plus one connection. A leader that finds its lock
    gone (its database connection broke) stops its jobs at once: two leaders never run side by side.
    """

    def __init__(
        self,
        lock: LeaderLock,
        jobs: list[Job],
        retry_s: float = 3.0,
        name: str = "",
        services: Sequence[LeaderService] = (),
    ) -> None:
        self._lock = lock
        self._jobs = jobs
        self._services = tuple(services)
        self._retry_s = retry_s
        self._name = name or "this process"
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = threading.Event()

    @property
    def jobs(self) -> tuple[Job, ...]:
        """The jobs this process runs while it leads."""
        return tuple(self._jobs)

    def remove_job(self, name: str) -> None:
        """Take a job out of the set this process runs when it leads (e.g. to step a job by hand)."""
        self._jobs = [job for job in self._jobs if job.name != name]
        if self._scheduler is not None and self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

    @property
    def running(self) -> bool:
        """True between start() and stop() (leading or waiting to lead)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start competing for the lock in the background (returns at once)."""
        self._thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the jobs, give the lock up and stop competing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._step_down()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._check()
            except Exception:  # the leadership loop must outlive any surprise; it retries next round
                log.exception("scheduler leadership check failed")
                self._step_down()
            self._stop.wait(self._retry_s)

    def _check(self) -> None:
        if self.leading.is_set():
            if not self._lock.still_held():
                log.warning("%s lost the scheduler lock (%s); its jobs stop", self._name, self._lock.describe())
                self._step_down()
            return
        if self._lock.try_acquire():
            self._scheduler = build_scheduler(self._jobs)
            self._scheduler.start()
            for service in self._services:
                service.start()
            self.leading.set()
            log.info("%s runs the scheduled jobs (%s)", self._name, self._lock.describe())

    def _step_down(self) -> None:
        self.leading.clear()
        for service in self._services:
            try:
                service.stop()
            except Exception:  # stepping down must finish: the lock is released below whatever happens
                log.exception("stopping %r failed", service)
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        self._lock.release()
