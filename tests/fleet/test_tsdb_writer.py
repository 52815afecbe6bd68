"""The spooling writer loses nothing while the TSDB is down, replays in order and keeps memory bounded.

The outage tests stop a real influxd, keep writing while it is down, restart it on the same port and
data folder and wait until every point is readable. Backoff runs on a ManualClock, so retries happen
when the test moves the clock, not after real waiting. The issue's "stopped for 30 s" is honoured by
``test_influx_stopped_30s_and_restarted_loses_no_point`` (marked slow, but part of the default run and
CI): influxd stays down for 30 s of real time while points keep arriving. The fast variant runs the same
scenario with a 2 s outage.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from fleet.tsdb import SpoolingWriter, TsdbRejected, TsdbUnavailable, open_tsdb
from fleet.tsdb.influx_v1 import InfluxV1Store
from fleet.tsdb.spool import Spool, SpoolInUseError, encode_point
from fleet.tsdb.sqlite_store import SqliteStore
from fleet.tsdb.writer import backoff_delay
from tests.services import InfluxService, free_port
from tests.waiting import wait_until
from twins.clock import ManualClock
from twins.series import SeriesPoint

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def points(bench: str, first: int, count: int) -> list[SeriesPoint]:
    """Telemetry points seq=first..first+count-1, one millisecond apart."""
    return [
        SeriesPoint(
            "telemetry",
            {"bench_id": bench, "municipality": "Mostar"},
            {"seq": seq, "battery_soc_pct": seq / 10},
            T0 + timedelta(milliseconds=seq),
        )
        for seq in range(first, first + count)
    ]


def stored_seqs(server: InfluxService, bench: str) -> list[int]:
    """Every seq value influxd holds for ``bench``, in time order."""
    body = server.query(f"SELECT seq FROM telemetry WHERE bench_id='{bench}'", db=server.database)
    series = body["results"][0].get("series")
    return [int(v[1]) for v in series[0]["values"]] if series else []


@pytest.fixture
def clock() -> ManualClock:
    """The writer's clock: backoff only elapses when a test advances it."""
    return ManualClock(T0)


@pytest.fixture
def bench() -> str:
    """A bench id unique to the test."""
    return f"writer-{uuid.uuid4().hex[:10]}"


def failures_above(writer: SpoolingWriter, count: int) -> bool:
    """True once the writer has failed more than ``count`` store attempts."""
    return writer.stats.failures > count


def kick(writer: SpoolingWriter, clock: ManualClock) -> None:
    """Move the clock past the pending backoff so the replay thread tries again."""
    due = writer.retry_at
    if due is not None and due > clock.now():
        clock.set(due)


def run_outage(server: InfluxService, tmp_path: Path, clock: ManualClock, bench: str, outage_s: float) -> None:
    """Write before, during (for ``outage_s`` real seconds) and after an influxd stop; nothing may be lost."""
    store = open_tsdb(server.url)
    writer = SpoolingWriter(store, tmp_path / "spool", batch_size=500, clock=clock, max_backoff_s=8.0)
    try:
        writer.write(points(bench, 0, 1000))
        assert writer.stats.written == 1000
        assert writer.pending() == 0

        port = server.port
        server.stop()
        seq = 1000
        failures_before = writer.stats.failures
        deadline = time.monotonic() + outage_s
        while time.monotonic() < deadline:
            # Each round: 50 new points (durable on return) and one more real, refused attempt to reach
            # influxd after the backoff elapses on the manual clock. The wait paces the loop.
            writer.write(points(bench, seq, 50))
            seq += 50
            attempts = writer.stats.failures
            kick(writer, clock)
            wait_until(partial(failures_above, writer, attempts), timeout=10, message="a refused retry")
        outage_points = seq - 1000
        assert writer.pending() == outage_points
        assert writer.stats.spooled == outage_points
        assert writer.stats.failures > failures_before
        assert store.ping() is False
        assert "127.0.0.1" in (writer.last_error or "")
        # Backoff doubles up to the cap while the server stays away.
        assert writer.retry_at is not None
        assert writer.retry_at - clock.now() <= timedelta(seconds=8.0)

        server.start()
        assert server.port == port
        kick(writer, clock)
        assert writer.flush(timeout=60), f"{writer.pending()} points still spooled"

        # Points written after recovery go straight to the store again.
        writer.write(points(bench, seq, 100))
        total = seq + 100
        assert writer.stats.written == 1100
        assert writer.stats.replayed == outage_points
        assert writer.stats.rejected == 0
        wait_until(lambda: len(stored_seqs(server, bench)) == total, timeout=30, message="all points readable")
        assert stored_seqs(server, bench) == list(range(total))
        assert not list((tmp_path / "spool").glob("*.jsonl")), "replayed segments are deleted"
    finally:
        writer.close()
        store.close()


def test_influx_stopped_and_restarted_loses_no_point(
    fresh_influxdb: InfluxService, tmp_path: Path, clock: ManualClock, bench: str
) -> None:
    """influxd stopped for 2 s while points keep coming, then restarted: every point is there."""
    run_outage(fresh_influxdb, tmp_path, clock, bench, outage_s=2.0)


@pytest.mark.slow
def test_influx_stopped_30s_and_restarted_loses_no_point(
    fresh_influxdb: InfluxService, tmp_path: Path, clock: ManualClock, bench: str
) -> None:
    """The issue's requirement verbatim: influxd down for 30 s of real time loses no point."""
    run_outage(fresh_influxdb, tmp_path, clock, bench, outage_s=30.0)


@pytest.fixture
def absent_influx(tmp_path: Path) -> Iterator[InfluxService]:
    """An influxd that is NOT running yet, on a port nobody listens on (the test starts it)."""
    server = InfluxService(tmp_path / "influxd", port=free_port())
    yield server
    server.stop()


def test_spool_survives_writer_restart(
    absent_influx: InfluxService, tmp_path: Path, clock: ManualClock, bench: str
) -> None:
    """Points spooled by a process that then exits are replayed by the next one, once the TSDB is up."""
    spool = tmp_path / "spool"
    store = open_tsdb(absent_influx.url)
    first = SpoolingWriter(store, spool, batch_size=100, clock=clock)
    first.write(points(bench, 0, 250))
    assert first.pending() == 250
    first.close()

    absent_influx.start()
    second = SpoolingWriter(store, spool, batch_size=100, clock=clock)
    try:
        assert second.pending() == 250
        assert second.flush(timeout=30)
        assert second.stats.replayed == 250
        assert stored_seqs(absent_influx, bench) == list(range(250))
    finally:
        second.close()
        store.close()


def test_backoff_doubles_up_to_the_cap(tmp_path: Path, clock: ManualClock, bench: str) -> None:
    """Each refused attempt doubles the wait (by the writer's clock) until max_backoff_s."""
    assert [backoff_delay(n, 0.5, 4.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    store = InfluxV1Store.from_url(f"influxdb://127.0.0.1:{free_port()}/nowhere")
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock, initial_backoff_s=0.5, max_backoff_s=4.0)
    try:
        writer.write(points(bench, 0, 10))
        gaps = []
        for expected in (1, 2, 3, 4, 5):
            wait_until(partial(failures_above, writer, expected - 1), timeout=10, message=f"attempt {expected}")
            assert writer.stats.failures == expected, "no retry before the backoff elapsed"
            due = writer.retry_at
            assert due is not None
            gaps.append((due - clock.now()).total_seconds())
            clock.set(due)
        assert gaps == [0.5, 1.0, 2.0, 4.0, 4.0]
        assert writer.pending() == 10
    finally:
        writer.close()
        store.close()


def test_rejected_points_are_counted_not_retried(tmp_path: Path, clock: ManualClock, bench: str) -> None:
    """A batch the store refuses (type conflict) is counted as rejected and never spooled."""
    store = SqliteStore(tmp_path / "series.sqlite3")
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock)
    try:
        writer.write(points(bench, 0, 5))
        bad = [SeriesPoint("telemetry", {"bench_id": bench}, {"seq": "not a number"}, T0)]
        writer.write(bad)
        assert writer.stats.rejected == 1
        assert writer.stats.written == 5
        assert writer.pending() == 0
        assert writer.retry_at is None
        with pytest.raises(TsdbRejected):
            store.write(bad)
    finally:
        writer.close()
        store.close()


def test_replay_keeps_order_across_segments(
    absent_influx: InfluxService, tmp_path: Path, clock: ManualClock, bench: str
) -> None:
    """Rewrites of one point during an outage, spread over many segments, end with the last value."""
    spool = tmp_path / "spool"
    store = open_tsdb(absent_influx.url)
    writer = SpoolingWriter(store, spool, batch_size=7, clock=clock, segment_bytes=2048)
    tags = {"bench_id": bench, "municipality": "Mostar"}
    try:
        for version in range(300):
            writer.write([SeriesPoint("telemetry", tags, {"battery_soc_pct": float(version)}, T0)])
        assert len(list(spool.glob("*.jsonl"))) > 5, "small segments rotate"
        absent_influx.start()
        kick(writer, clock)
        assert writer.flush(timeout=30)
        assert store.last("telemetry", "battery_soc_pct", {"bench_id": bench}) == (T0, 299.0)
        assert not list(spool.glob("*.jsonl"))
    finally:
        writer.close()
        store.close()


def test_spool_reads_in_bounded_chunks_and_drops_torn_lines(tmp_path: Path, bench: str) -> None:
    """Replay reads at most max_points at a time; a half-written last line (crash) is dropped alone."""
    spool = Spool(tmp_path / "spool")
    spool.append(points(bench, 0, 2500))
    spool.close()
    segment = next((tmp_path / "spool").glob("*.jsonl"))
    with segment.open("ab") as f:
        f.write(b'{"m":"telemetry","t":{},"f":{"seq":')  # torn append, no newline

    reopened = Spool(tmp_path / "spool")
    assert reopened.pending == 2500
    seen: list[int] = []
    while (n := reopened.oldest()) is not None:
        chunk = reopened.read(n, 1000)
        assert len(chunk.points) <= 1000
        seen += [int(p.fields["seq"]) for p in chunk.points]
        reopened.commit(chunk)
    assert seen == list(range(2500))
    assert reopened.pending == 0
    assert not segment.exists()


def test_one_writer_per_spool_folder(tmp_path: Path) -> None:
    """A second writer on the same spool folder is refused with a clear error until the first closes."""
    first = Spool(tmp_path / "spool")
    with pytest.raises(SpoolInUseError, match="in use by another writer"):
        Spool(tmp_path / "spool")
    first.close()
    Spool(tmp_path / "spool").close()


def test_full_spool_refuses_and_keeps_what_it_holds(tmp_path: Path, clock: ManualClock, bench: str) -> None:
    """Store down and spool at max_spool_bytes: write raises TsdbUnavailable and nothing is dropped silently."""
    store = InfluxV1Store.from_url(f"influxdb://127.0.0.1:{free_port()}/nowhere")
    first_two_batches = sum(len(encode_point(p)) for p in points(bench, 0, 20))
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock, max_spool_bytes=first_two_batches)
    try:
        writer.write(points(bench, 0, 10))
        writer.write(points(bench, 10, 10))  # two batches, spooled: now the spool is full
        assert writer.pending() == 20
        assert writer.spool_bytes == first_two_batches
        with pytest.raises(TsdbUnavailable, match="spool is full"):
            writer.write(points(bench, 20, 10))
        assert writer.pending() == 20, "the refused batch is not half-spooled"
    finally:
        writer.close()
        store.close()


def stored_in(store: SqliteStore, bench: str) -> list[int]:
    """Every seq a SQLite store holds for ``bench`` (1 ms buckets), in time order."""
    samples = store.query_series("telemetry", "seq", {"bench_id": bench}, T0, T0 + timedelta(seconds=5), MS)
    return [int(s.value) for s in samples if s.value is not None]


class MeetingStore(SqliteStore):
    """A real SQLite store whose writes first wait for each other: passes only if two run at once."""

    def __init__(self, path: Path, down_first: bool = False) -> None:
        super().__init__(path)
        self.meeting = threading.Barrier(2, timeout=10)
        self.down_first = down_first
        self.calls = 0
        self._calls = threading.Lock()

    def write(self, points: Sequence[SeriesPoint]) -> None:
        with self._calls:
            self.calls += 1
            first = self.calls == 1
        self.meeting.wait()  # BrokenBarrierError (the test fails) unless another write is under way
        if first and self.down_first:
            raise TsdbUnavailable("the first request found influxd away")
        super().write(points)


def test_a_large_write_goes_out_as_concurrent_requests(tmp_path: Path, clock: ManualClock, bench: str) -> None:
    store = MeetingStore(tmp_path / "series.sqlite3")
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock, parallel=2, parallel_min=1000)
    try:
        writer.write(points(bench, 0, 3000))
        assert store.calls == 2  # two halves of 1,500, at the same time
        assert writer.stats.written == 3000
        assert stored_in(store, bench) == list(range(3000))
    finally:
        writer.close()
        store.close()


def test_a_half_the_store_refused_is_spooled_and_replayed(tmp_path: Path, clock: ManualClock, bench: str) -> None:
    store = MeetingStore(tmp_path / "series.sqlite3", down_first=True)
    writer = SpoolingWriter(store, tmp_path / "spool", clock=clock, parallel=2, parallel_min=1000)
    try:
        writer.write(points(bench, 0, 2000))  # returns: one half in the store, the other on the spool
        assert writer.stats.written + writer.stats.spooled == 2000
        assert writer.pending() == 1000
        store.meeting = threading.Barrier(1)  # replays go one at a time
        kick(writer, clock)
        assert writer.flush(timeout=30)
        assert stored_in(store, bench) == list(range(2000))
    finally:
        writer.close()
        store.close()
