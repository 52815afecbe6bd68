"""The backfill's events: port sessions and votes, stored as ingestion stores them, once, inside poll windows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from fleet.db.engine import make_engine
from fleet.db.schema import vote_counts, vote_events
from fleet.db.store import SqlStore
from fleet.ingest.history import HistoryEventWriter
from fleet.registry import default_fleet
from fleet.reports.build import ReportSources, build_report
from fleet.reports.period import parse_period
from fleet.state.desired import DesiredVersions
from fleet.state.twin_store import TwinStore
from fleet.tsdb import open_tsdb
from fleet.tsdb.base import TimeSeriesStore
from simulator.backfill_run import (
    BackfillReport,
    PollWindow,
    history_times,
    port_session_events,
    run_backfill,
    simulate_history,
)
from simulator.cli import run_simulate
from simulator.sites import fleet_sites, seed_sites
from tests.fleet.reports_kit import PARK, SQUARE, poll
from tests.services import PostgresDatabase
from twins.clock import ManualClock
from twins.config import Poll
from twins.messages import PortSessionEvent
from twins.series import SeriesPoint

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
NOV5, DEC10 = datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 12, 10, tzinfo=UTC)
BENCHES = ("mostar-01", "trebinje-01")
POLLS: dict[str, list[dict[str, object]]] = {
    "mostar-01": [poll("park-2026", PARK, NOV5, DEC10)],
    "trebinje-01": [poll("square-2026", SQUARE, datetime(2026, 10, 20, tzinfo=UTC), NOV5)],
}


@dataclass
class Backfilled:
    """A fleet with 40 days of backfilled history of two benches (votes in PostgreSQL, points in SQLite)."""

    engine: Engine
    tsdb: TimeSeriesStore
    points: list[SeriesPoint]
    first: BackfillReport
    second: BackfillReport
    counts_after_first: dict[tuple[str, str, str], int]
    writer: HistoryEventWriter


def _counts(engine: Engine) -> dict[tuple[str, str, str], int]:
    q = select(vote_counts.c.bench_id, vote_counts.c.poll_id, vote_counts.c.option, vote_counts.c.votes)
    with engine.connect() as conn:
        return {(b, p, o): int(n) for b, p, o, n in conn.execute(q)}


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    """Register the fleet, configure the polls, backfill 40 days twice (the second run must count nothing)."""
    database = PostgresDatabase()
    database.create()
    engine = make_engine(database.url)
    SqlStore(engine).create_schema()
    twins = TwinStore(engine)
    twins.register(default_fleet(), NOW)
    desired = DesiredVersions(twins)
    for bench_id, polls in POLLS.items():
        desired.patch(bench_id, {"telemetry_interval_s": 900, "polls": polls}, None, "test", NOW)
    tsdb = open_tsdb(f"sqlite:///{tmp_path_factory.mktemp('events') / 'series.db'}")
    points: list[SeriesPoint] = []

    class Recorder:
        """The TSDB, keeping a copy of every point written (telemetry and events alike)."""

        def write(self, batch: Sequence[SeriesPoint]) -> None:
            points.extend(batch)
            tsdb.write(batch)

    write = Recorder().write

    windows = {b: [PollWindow.of(Poll.model_validate(p, strict=False)) for p in polls] for b, polls in POLLS.items()}
    sites = [s for s in seed_sites() if s.bench_id in BENCHES]
    writer = HistoryEventWriter(engine, Recorder(), ManualClock(NOW))

    def run() -> BackfillReport:
        return run_backfill(
            sites, 3, NOW, timedelta(days=40), write, progress=False, polls=windows, write_events=writer.write
        )

    first = run()
    counts = _counts(engine)
    second = run()
    yield Backfilled(engine, tsdb, points, first, second, counts, writer)
    tsdb.close()
    engine.dispose()
    database.drop()


def _sql_votes(engine: Engine) -> list[tuple[str, str, str, datetime]]:
    q = select(vote_events.c.bench_id, vote_events.c.poll_id, vote_events.c.option, vote_events.c.ts)
    with engine.connect() as conn:
        return [(b, p, o, ts if ts.tzinfo else ts.replace(tzinfo=UTC)) for b, p, o, ts in conn.execute(q)]


def test_votes_fall_inside_their_poll_window_with_valid_options(backfilled: Backfilled) -> None:
    """Every counted vote is for a poll of its bench, inside the poll's window, for one of its options."""
    votes = _sql_votes(backfilled.engine)
    assert backfilled.first.votes == len(votes) > 50  # 40 days of visitors at two benches
    windows = {
        (b, w.poll_id): w
        for b, polls in POLLS.items()
        for w in (PollWindow.of(Poll.model_validate(p, strict=False)) for p in polls)
    }
    for bench_id, poll_id, option, ts in votes:
        window = windows[bench_id, poll_id]
        assert window.opens <= ts < window.closes
        assert option in window.options
    # Both benches' polls got votes (trebinje's only before Nov 5, mostar's only after).
    assert {(b, p) for b, p, _, _ in votes} == set(windows)


def test_a_rerun_counts_no_vote_twice(backfilled: Backfilled) -> None:
    """The second identical backfill offers the same vote ids: the counts stay as after the first."""
    assert backfilled.second.votes == backfilled.first.votes
    assert _counts(backfilled.engine) == backfilled.counts_after_first
    assert backfilled.writer.votes_duplicate == backfilled.first.votes
    assert sum(backfilled.counts_after_first.values()) == backfilled.writer.votes_counted
    vote_points = [p for p in backfilled.points if p.measurement == "vote"]
    assert len(vote_points) == backfilled.first.votes  # points only for newly counted votes


def test_port_sessions_are_plausible_and_written_as_event_points(backfilled: Backfilled) -> None:
    """Some sessions per bench and day, each with positive length and energy, stored as ``event`` points."""
    sessions = backfilled.first.port_sessions
    assert 2 * 40 <= sessions <= 2 * 40 * 200  # at least one a day per bench, far from one per sample
    event_points = [p for p in backfilled.points if p.measurement == "event"]
    assert len(event_points) == 2 * sessions  # two identical runs
    assert {p.tags["type"] for p in event_points} == {"port_session"}
    assert {p.tags["bench_id"] for p in event_points} == set(BENCHES)


def test_port_session_events_follow_the_active_samples() -> None:
    """Sessions are the runs of active samples: started one step before the first, energy = power x step."""
    site = seed_sites()[4]
    step = timedelta(minutes=1)
    times = history_times(datetime(2026, 6, 1, 20, tzinfo=UTC), timedelta(hours=12), step)
    frame, ports, votes, _ = simulate_history((site, site, 5, times, ()))
    assert votes == []  # no poll configured, no vote
    events = port_session_events(site, frame, ports, 5)
    assert events
    again = port_session_events(site, frame, ports, 5)
    assert [e.id for e in events] == [e.id for e in again]
    for event in events:
        assert isinstance(event, PortSessionEvent)
        data = event.data
        assert data.started < data.ended == event.ts
        col = frame.loc[data.started + step : data.ended, f"{data.port_id}.power_w"]
        assert (col > 0).all()
        assert data.energy_wh == pytest.approx(float(col.sum()) / 60.0, abs=0.01)
    active = sum(int(frame[f"{p}.active"].sum()) for p, _ in ports)
    covered = sum(int((e.data.ended - e.data.started) / step) for e in events)
    assert 0 < covered <= active


def test_a_month_report_over_the_backfill_has_participation(backfilled: Backfilled) -> None:
    """November's Mostar report lists the park poll with the backfilled votes and service numbers."""
    sources = ReportSources(backfilled.engine, backfilled.tsdb, TwinStore(backfilled.engine).list_twins())
    november = parse_period("2026-11")
    report = build_report(sources, "Mostar", november, "bs", NOW)
    park = next(p for p in report.polls if p.poll_id == "park-2026")
    expected = sum(
        1 for b, p, _, ts in _sql_votes(backfilled.engine) if p == "park-2026" and november.start <= ts < november.end
    )
    assert park.total == expected > 0
    assert sum(n for _, n in park.by_day) == expected
    mostar = next(s for s in report.service if s.bench_id == "mostar-01")
    assert sum(p.sessions for p in mostar.ports) > 0


def test_simulate_backfill_at_60s_counts_votes_in_the_database(tmp_path: Path, db_url: str) -> None:
    """``simulate --backfill 1d --step 60s --db``: samples every minute, votes for the configured poll."""
    engine = make_engine(db_url)
    try:
        SqlStore(engine).create_schema()
        twins = TwinStore(engine)
        now = datetime.now(UTC)
        twins.register(default_fleet(), now)
        open_poll = poll("park-2026", PARK, now - timedelta(days=3), now + timedelta(days=3))
        bench_id = fleet_sites(1, 5)[0].bench_id
        DesiredVersions(twins).patch(bench_id, {"polls": [open_poll]}, None, "test", now)
        code = run_simulate(
            mqtt_url="mqtt://127.0.0.1:1", benches=1, speed=1.0, seed=5, scenario=None, backfill="1d",
            tsdb=f"sqlite:///{tmp_path / 'series.db'}", data_dir=tmp_path, duration=None, step="60s", db=db_url,
        )  # fmt: skip
        assert code == 0
        with engine.connect() as conn:
            votes = conn.execute(select(func.count()).select_from(vote_events)).scalar_one()
        assert votes > 0
        store = open_tsdb(f"sqlite:///{tmp_path / 'series.db'}")
        try:
            series = store.query_series(
                "telemetry", "seq", {"bench_id": bench_id}, now - timedelta(days=2), now + timedelta(minutes=1),
                timedelta(minutes=1),
            )  # fmt: skip
            assert sum(1 for s in series if s.value is not None) == 24 * 60
        finally:
            store.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize(("step", "message"), [("30s", "at least 0:01:00"), ("soon", "--step")])
def test_simulate_backfill_names_a_bad_step(tmp_path: Path, step: str, message: str) -> None:
    """A step below the benches' interval or unparsable is refused, naming the flag."""
    with pytest.raises(ValueError, match=message):
        run_simulate(
            mqtt_url="mqtt://127.0.0.1:1", benches=1, speed=1.0, seed=5, scenario=None, backfill="1d",
            tsdb=f"sqlite:///{tmp_path / 'series.db'}", data_dir=tmp_path, duration=None, step=step,
        )  # fmt: skip
