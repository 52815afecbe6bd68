"""The SQLite outbox: order, acks, bounds (votes never dropped), a shared file, and kill -9 mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from firmware_agent.outbox.base import Category
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from simulator.memory_outbox import MemoryOutbox
from tests.waiting import wait_until
from twins.topics import TopicKind

ROOT = Path(__file__).resolve().parents[2]


def _telemetry(outbox: SqliteOutbox, created_s: float, n: int = 0) -> int:
    return outbox.put(TopicKind.TELEMETRY, Category.TELEMETRY, f"t{n}".encode(), created_s)


def test_fifo_ack_and_cursor(tmp_path: Path) -> None:
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "bench-a")
    ids = [_telemetry(outbox, 1000.0 + i, i) for i in range(5)]
    first = outbox.pending(0, 3)
    assert [e.row_id for e in first] == ids[:3]
    assert [e.payload for e in outbox.pending(first[-1].row_id, 10)] == [b"t3", b"t4"]
    outbox.ack(ids[1])
    outbox.ack(ids[1])  # a duplicate PUBACK is harmless
    assert outbox.count() == 4
    assert [e.row_id for e in outbox.pending(0, 10)] == [ids[0], ids[2], ids[3], ids[4]]


def test_votes_are_tallied_atomically_and_survive_reopen(tmp_path: Path) -> None:
    db = AgentDatabase(tmp_path / "o.db")
    outbox = SqliteOutbox(db, "bench-a")
    for option in ("yes", "yes", "no"):
        outbox.put_vote(b"{}", "park", option, 1000.0)
    row = outbox.pending(0, 1)[0]
    outbox.ack(row.row_id)  # leaving the outbox does not un-count a vote
    db.close()
    again = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "bench-a")
    assert again.vote_counts() == {"park": {"no": 1, "yes": 2}}
    assert again.count() == 2


def test_history_votes_start_the_tally_without_events(tmp_path: Path) -> None:
    """A simulated bench's history votes are in its tally (as the fleet counted them), not in its outbox."""
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "bench-a")
    outbox.add_to_tally({"park": {"yes": 5, "no": 2}})
    outbox.put_vote(b"{}", "park", "yes", 1000.0)
    assert outbox.vote_counts() == {"park": {"no": 2, "yes": 6}}
    assert outbox.count() == 1  # only the live vote waits to be sent
    memory = MemoryOutbox()
    memory.add_to_tally({"park": {"yes": 5, "no": 2}})
    memory.put_vote(b"{}", "park", "yes", 1000.0)
    assert memory.vote_counts() == outbox.vote_counts()
    assert memory.count() == 1


def test_full_outbox_thins_old_telemetry_but_never_drops_votes(tmp_path: Path) -> None:
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "bench-a", max_messages=100, thin_bucket_s=600)
    votes = []
    for i in range(600):  # ten hours of 60 s samples, a vote every 50 samples
        _telemetry(outbox, 36_000.0 + 60 * i, i)
        if i % 50 == 0:
            votes.append(outbox.put_vote(f"v{i}".encode(), "park", "yes", 36_000.0 + 60 * i))
    entries = outbox.pending(0, 10_000)
    assert outbox.count() == len(entries) <= 100
    assert [e.row_id for e in entries if e.category is Category.VOTE] == votes
    telemetry_times = [e.created_s for e in entries if e.category is Category.TELEMETRY]
    # Thinning, not truncation: every 10 minutes of the ten hours still has a sample, the newest is kept.
    assert {int(t // 600) for t in telemetry_times} == set(range(60, 120))
    assert telemetry_times[-1] == 36_000.0 + 60 * 599
    assert min(telemetry_times) == 36_000.0
    assert outbox.stats().thinned > 0


def test_votes_alone_may_exceed_the_bound(tmp_path: Path) -> None:
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "bench-a", max_messages=10)
    for i in range(15):
        outbox.put_vote(b"{}", "park", "no", float(i))
    assert outbox.count() == 15
    assert outbox.stats().dropped == 0


def test_one_file_holds_many_benches(tmp_path: Path) -> None:
    db = AgentDatabase(tmp_path / "fleet.db", synchronous="NORMAL")
    boxes = {b: SqliteOutbox(db, b) for b in ("bench-a", "bench-b", "bench-c")}
    for n, box in enumerate(boxes.values()):
        for i in range(n + 1):
            _telemetry(box, float(i), i)
        box.put_vote(b"{}", "park", "yes", 0.0)
    assert {b: box.count() for b, box in boxes.items()} == {"bench-a": 2, "bench-b": 3, "bench-c": 4}
    assert boxes["bench-b"].vote_counts() == {"park": {"yes": 1}}
    row = boxes["bench-a"].pending(0, 1)[0]
    boxes["bench-c"].ack(row.row_id)  # another bench cannot remove bench-a's message
    assert boxes["bench-a"].count() == 2
    assert SqliteOutbox(db, "bench-c").count() == 4


WRITER = textwrap.dedent(
    """
    import sys
    from firmware_agent.outbox.base import Category
    from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
    from twins.topics import TopicKind

    outbox = SqliteOutbox(AgentDatabase(sys.argv[1]), "bench-a")
    i = 0
    while True:
        payload = (b"%d:" % i) + b"x" * 2000
        if i % 7 == 0:
            row = outbox.put_vote(payload, "park", "yes", float(i))
        else:
            row = outbox.put(TopicKind.TELEMETRY, Category.TELEMETRY, payload, float(i))
        print(i, row, flush=True)
        i += 1
    """
)


def test_kill_9_mid_write_loses_no_committed_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    wait_until(lambda: lines.append(proc.stdout.readline().decode()) or len(lines) >= 200, timeout=30, interval=0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    confirmed = [tuple(map(int, line.split())) for line in lines if line.strip()]

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    outbox = SqliteOutbox(AgentDatabase(path), "bench-a")
    stored = {e.row_id: e.payload for e in outbox.pending(0, 100_000)}
    for i, row in confirmed:  # everything the writer saw committed is there, intact
        assert stored[row].startswith(b"%d:" % i)
        assert len(stored[row]) == len(b"%d:" % i) + 2000
    votes_confirmed = sum(1 for i, _ in confirmed if i % 7 == 0)
    assert outbox.vote_counts()["park"]["yes"] >= votes_confirmed
    assert outbox.vote_counts()["park"]["yes"] == sum(1 for p in stored.values() if int(p.split(b":")[0]) % 7 == 0)


def test_torn_wal_after_power_cut_keeps_whole_transactions(tmp_path: Path) -> None:
    """A power cut can leave the end of the WAL half-written: SQLite must recover a prefix of whole commits."""
    import shutil

    live = tmp_path / "live"
    live.mkdir()
    db = AgentDatabase(live / "o.db")
    outbox = SqliteOutbox(db, "bench-a")
    with db.reading() as conn:  # the schema is old news on a running bench: move it to the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for i in range(60):
        if i % 3 == 0:
            outbox.put_vote(b"%d:" % i + b"v" * 1500, "park", "yes", float(i))
        else:
            outbox.put(TopicKind.TELEMETRY, Category.TELEMETRY, b"%d:" % i + b"t" * 1500, float(i))
    wal_size = (live / "o.db-wal").stat().st_size
    assert wal_size > 60 * 1500  # everything is still in the WAL, not checkpointed
    recovered = []
    for cut in range(0, wal_size, wal_size // 23):
        copy = tmp_path / f"cut-{cut}"
        copy.mkdir()
        shutil.copy(live / "o.db", copy / "o.db")
        (copy / "o.db-wal").write_bytes((live / "o.db-wal").read_bytes()[:cut])
        with sqlite3.connect(copy / "o.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = conn.execute("SELECT id, category, payload FROM outbox ORDER BY id").fetchall()
            tally = conn.execute("SELECT COALESCE(SUM(votes), 0) FROM vote_tally").fetchone()[0]
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # a prefix of the commits
        assert all(len(r[2]) == len(r[2].split(b":")[0]) + 1 + 1500 for r in rows)  # no torn message
        assert tally == sum(1 for r in rows if r[1] == "vote")  # event and tally committed together
        recovered.append(len(rows))
    db.close()
    assert recovered == sorted(recovered)
    assert recovered[0] == 0
    assert recovered[-1] >= 55
