"""``benchfleet simulate``: N simulated benches against a broker, or a backfill of history into the TSDB."""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_agent.outbox.sqlite import AgentDatabase
from simulator.clock import AcceleratedClock
from simulator.runner import FleetRunner, FleetStats
from simulator.scenarios.model import load_scenario
from simulator.sites import BenchSite, fleet_sites
from twins.broker_url import parse_broker_url
from twins.durations import parse_duration

if TYPE_CHECKING:
    from simulator.backfill_run import PollWindow

log = logging.getLogger(__name__)

REPORT_EVERY_S = 10.0
# Sockets besides the benches': the broker of the fleet, log files, SQLite, the selector itself.
SPARE_FILES = 64


@dataclass
class RateMeter:
    """CPU share and publish rate between two reports (``os.times``: user + system of this process)."""

    wall: float
    cpu: float
    acked: int
    samples: int

    @classmethod
    def now(cls, stats: FleetStats) -> RateMeter:
        """A reading of the process and fleet counters."""
        times = os.times()
        return cls(time.monotonic(), times.user + times.system, stats.acked, stats.samples)

    def line(self, earlier: RateMeter, stats: FleetStats) -> str:
        """One report line: connected, publish rate, sample rate, CPU."""
        dt = max(1e-9, self.wall - earlier.wall)
        return (
            f"{stats.sim_time:%Y-%m-%d %H:%M:%S}Z sim | connected {stats.connected}/{stats.benches} | "
            f"{(self.acked - earlier.acked) / dt:.1f} msg/s acked | {(self.samples - earlier.samples) / dt:.1f} "
            f"samples/s | CPU {100 * (self.cpu - earlier.cpu) / dt:.0f} % of one core"
        )


def _say(line: str) -> None:
    """Progress for the operator, on standard error (standard output stays free for data)."""
    print(line, file=sys.stderr, flush=True)


def simulated_start(now: datetime, speed: float, duration: float | None) -> datetime:
    """Where simulated time starts so that it never runs ahead of the wall clock during the run.

    The fleet rejects timestamps from the future; an accelerated run of ``duration`` real seconds is
    therefore backdated by ``(speed - 1) * duration`` and ends at the wall clock's now. An endless
    accelerated run cannot stay behind: it starts now (and a fleet on wall time rejects it soon).
    """
    now = now.replace(microsecond=0)
    if speed <= 1 or duration is None:
        return now
    return now - timedelta(seconds=(speed - 1) * duration)


def ensure_file_limit(benches: int) -> None:
    """Raise the soft open-file limit if the fleet needs it; ValueError naming ``ulimit -n`` if it cannot."""
    need = benches + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if need <= soft:
        return
    if hard != resource.RLIM_INFINITY and need > hard:
        raise ValueError(
            f"--benches {benches} needs about {need} open files (one socket per bench) but `ulimit -n` allows "
            f"{hard}; raise the limit (e.g. `ulimit -n {need}`) or simulate fewer benches"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def run_simulate(
    mqtt_url: str,
    benches: int,
    speed: float,
    seed: int,
    scenario: Path | None,
    backfill: str | None,
    tsdb: str | None,
    data_dir: Path | None,
    duration: float | None,
    step: str | None = None,
    db: str | None = None,
) -> int:
    """Run the simulation the flags describe and return the exit code; ValueError for a bad flag."""
    if backfill is not None:
        return _run_backfill(benches, seed, backfill, tsdb, data_dir, step, db)
    if benches < 1:
        raise ValueError(f"--benches must be at least 1, got {benches}")
    if not speed > 0:
        raise ValueError(f"--speed must be positive (simulated seconds per real second), got {speed}")
    if duration is not None and duration <= 0:
        raise ValueError(f"--duration must be positive seconds, got {duration}")
    try:
        broker = parse_broker_url(mqtt_url)
    except ValueError as err:
        raise ValueError(f"--mqtt: {err}") from None
    plan = load_scenario(scenario) if scenario is not None else None
    ensure_file_limit(benches)
    start = (
        plan.start
        if plan is not None and plan.start is not None
        else simulated_start(datetime.now(UTC), speed, duration)
    )
    clock = AcceleratedClock(start, speed)
    sim_span = plan.duration_td if plan is not None else None
    agent_db = None
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        agent_db = AgentDatabase(data_dir / "agents.sqlite3", synchronous="NORMAL")
    runner = FleetRunner(
        fleet_sites(benches, seed),
        broker,
        clock,
        seed=seed,
        scenario=plan,
        run_end=start + sim_span if sim_span else None,
        db=agent_db,
    )
    runner.build()
    scenario_note = f", scenario {plan.name}" if plan is not None else ""
    _say(
        f"simulating {benches} benches against {broker.redacted()} at {speed:g}x "
        f"from {start:%Y-%m-%d %H:%M}Z{scenario_note}"
    )
    if speed > 1 and duration is None and (plan is None or plan.start is None):
        _say(
            f"at --speed {speed:g} simulated time runs ahead of the wall clock: a fleet on wall time rejects "
            "future timestamps; give --duration to backdate the run so it ends now"
        )
    if benches > 12:
        _say(
            "benches beyond the 12 of the seed data are unknown to the fleet "
            "unless it runs with BENCHFLEET_AUTO_REGISTER=1"
        )
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    real_end = time.monotonic() + duration if duration is not None else None
    sim_end = (start + sim_span).timestamp() if sim_span is not None else None
    last = RateMeter.now(runner.stats())
    next_report = time.monotonic() + REPORT_EVERY_S
    try:
        while not stop.is_set():
            now = time.monotonic()
            if (real_end is not None and now >= real_end) or (sim_end is not None and clock.now_s() >= sim_end):
                break
            runner.run_once(0.05)
            if now >= next_report:
                stats = runner.stats()
                reading = RateMeter.now(stats)
                _say(reading.line(last, stats))
                last, next_report = reading, now + REPORT_EVERY_S
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        final = runner.stats()
        runner.stop()
        if agent_db is not None:
            agent_db.close()
        _say(
            f"done: {final.connected}/{final.benches} connected at the end, {final.samples} samples, "
            f"{final.acked} messages acknowledged, {final.disconnects} disconnects"
        )
    return 0


def _run_backfill(
    benches: int, seed: int, backfill: str, tsdb: str | None, data_dir: Path | None, step: str | None, db: str | None
) -> int:
    """Write ``backfill`` of history for the benches into the TSDB at ``tsdb`` (and, with ``db``, their
    port sessions and the votes for the polls in the benches' desired configs, counted in that database)."""
    if not tsdb:
        raise ValueError(
            "--backfill writes into a time-series store: give --tsdb (or BENCHFLEET_TSDB), "
            "e.g. --tsdb sqlite:///series.db or --tsdb influxdb://localhost:8086/benchfleet"
        )
    try:
        period = parse_duration(backfill)
    except ValueError as err:
        raise ValueError(f"--backfill: {err}") from None
    # The one place the simulator touches fleet code: writing history *is* the fleet's storage job, and
    # going through its store and spooling writer keeps one implementation of the TSDB semantics. The
    # import is local so the simulator package itself stays free of fleet imports (architecture rule).
    from fleet.tsdb.factory import open_tsdb
    from fleet.tsdb.writer import SpoolingWriter
    from simulator.backfill_run import DEFAULT_STEP, MIN_STEP, history_times, run_backfill

    try:
        interval = parse_duration(step) if step is not None else DEFAULT_STEP
    except ValueError as err:
        raise ValueError(f"--step: {err}") from None
    if interval < MIN_STEP:
        raise ValueError(f"--step must be at least {MIN_STEP} (the benches' telemetry interval), got {interval}")
    end = datetime.now(UTC)
    try:
        history_times(end, period, interval)
    except ValueError as err:
        raise ValueError(f"--backfill: {err}") from None
    sites = fleet_sites(benches, seed)
    store = open_tsdb(tsdb)
    spool = (data_dir or Path(tempfile.mkdtemp(prefix="benchfleet-backfill-"))) / "backfill-spool"
    writer = SpoolingWriter(store, spool)
    engine = _history_engine(db)
    try:
        polls, write_events = _history_events(engine, sites, writer) if engine is not None else ({}, None)
        report = run_backfill(
            sites, seed, end, period, writer.write, step=interval, polls=polls, write_events=write_events,
            prepare=writer.prepare,
        )  # fmt: skip
        drained = writer.flush(timeout=60.0)
    finally:
        writer.close()
        store.close()
        if engine is not None:
            engine.dispose()
    _say(
        f"backfill: {report.samples} samples ({report.points} points) for {report.benches} benches from "
        f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC every {report.step} into "
        f"{store.describe()} in {report.total_s:.1f} s "
        f"(physics {report.physics_s:.1f} s, writes {report.write_s:.1f} s), "
        f"{report.port_sessions} port sessions and {report.votes} votes"
    )
    if writer.stats.rejected or not drained:
        _say(f"backfill: {writer.stats.rejected} points rejected, {writer.pending()} still spooled in {spool}")
        return 1
    return 0


def _history_engine(db: str | None) -> Any:
    """The fleet database the backfill counts votes in (its schema must be current), or None without ``db``."""
    if not db:
        return None
    from fleet.db.engine import make_engine
    from fleet.db.migrate import ensure_schema

    engine = make_engine(db)
    ensure_schema(engine, auto_upgrade=False)
    return engine


def _history_events(engine: Any, sites: Sequence[BenchSite], writer: Any) -> tuple[dict[str, list[PollWindow]], Any]:
    """Each bench's polls (from its desired config) and the writer storing events as ingestion does."""
    from fleet.ingest.history import HistoryEventWriter
    from fleet.state.twin_store import TwinStore
    from simulator.backfill_run import PollWindow
    from twins.clock import SystemClock

    twins = TwinStore(engine).get_twins([s.bench_id for s in sites])
    polls = {b: [PollWindow.of(p) for p in twin.desired.polls] for b, twin in twins.items()}
    return polls, HistoryEventWriter(engine, writer, SystemClock()).write
