"""The health sweep turns a silent bench stale; exactly one process runs the scheduled jobs, whichever dies."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.event_bus import EventBus
from fleet.events import FleetEvent, TwinChanged
from fleet.ingest.pipeline import RawMessage
from fleet.leader_lock import FileLeaderLock, LeaderLock, PgAdvisoryLock, leader_lock_for
from fleet.registry import default_fleet
from fleet.scheduler import HealthSweep, Job, SchedulerLeader, build_scheduler
from fleet.state.cache import TwinCache
from tests.fleet.ingest_kit import pipeline_kit
from tests.payloads import dumps, telemetry
from tests.waiting import WaitTimeoutError, wait_until
from twins.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]


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


# --- one leader at a time --------------------------------------------------------------------------------

LockFactory = Callable[[], LeaderLock]


@pytest.fixture(params=["postgresql", "file"])
def lock_factory(request: pytest.FixtureRequest, tmp_path: Path) -> LockFactory:
    """Locks of one kind that all compete for the same thing (one database or one lock file)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return lambda: PgAdvisoryLock(url, key=_unique_key())
    return lambda: FileLeaderLock(tmp_path / "scheduler.lock")


_KEY = secrets.randbits(48)  # one key per test session: a concurrent session on the same server never collides


def _unique_key() -> int:
    return _KEY


def _recorder(ran: list[str], name: str) -> Callable[[], None]:
    return lambda: ran.append(name)


def _leaders(factory: LockFactory, ran: list[str], names: tuple[str, ...]) -> list[SchedulerLeader]:
    return [
        SchedulerLeader(factory(), [Job("tick", 0.05, _recorder(ran, name))], retry_s=0.1, name=name) for name in names
    ]


def test_only_one_holder_runs_jobs_and_another_takes_over(lock_factory: LockFactory) -> None:
    ran: list[str] = []
    first, second = _leaders(lock_factory, ran, ("first", "second"))
    first.start()
    wait_until(first.leading.is_set, timeout=10, message="first leads")
    second.start()
    try:
        wait_until(lambda: ran.count("first") >= 5, timeout=10, message="first's job ran")
        assert not second.leading.is_set()
        assert set(ran) == {"first"}

        first.stop()  # the holder goes away
        released = time.monotonic()
        wait_until(second.leading.is_set, timeout=5, message="second takes over")
        assert time.monotonic() - released < 2.0  # retry_s 0.1 plus one connection
        ran.clear()
        wait_until(lambda: ran.count("second") >= 3, timeout=10, message="second's job ran")
        assert set(ran) == {"second"}
    finally:
        first.stop()
        second.stop()


_HOLDER = """
import sys, time
from fleet.leader_lock import PgAdvisoryLock
from fleet.scheduler import Job, SchedulerLeader
leader = SchedulerLeader(PgAdvisoryLock(sys.argv[1], key=int(sys.argv[2])), [Job("noop", 60, lambda: None)], 0.1)
leader.start()
leader.leading.wait(30)
print("leading" if leader.leading.is_set() else "not leading", flush=True)
time.sleep(600)  # until killed
"""


def test_a_killed_holder_process_releases_the_lock(pg_url: str) -> None:
    key = secrets.randbits(48)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_url, str(key)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    ran: list[str] = []
    survivor = SchedulerLeader(PgAdvisoryLock(pg_url, key=key), [Job("t", 0.05, lambda: ran.append("s"))], 0.1)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "leading"
        survivor.start()
        # While the holder lives, the survivor's tries all fail (ten rounds of retry_s).
        with pytest.raises(WaitTimeoutError):
            wait_until(survivor.leading.is_set, timeout=1.0, message="survivor leads while the holder lives")
        assert ran == []
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        wait_until(survivor.leading.is_set, timeout=10, message="survivor takes over after kill -9")
        assert time.monotonic() - killed < 3.0
        wait_until(lambda: ran, timeout=5, message="survivor runs the jobs")
    finally:
        holder.kill()
        holder.wait(timeout=10)
        survivor.stop()


def test_lock_choice_follows_the_database(tmp_path: Path) -> None:
    assert isinstance(leader_lock_for("postgresql://u@h/db", tmp_path), PgAdvisoryLock)
    lock = leader_lock_for(f"sqlite:///{tmp_path / 'fleet.db'}", tmp_path)
    assert isinstance(lock, FileLeaderLock)
    assert lock.describe() == f"file lock {tmp_path / 'scheduler.lock'}"
