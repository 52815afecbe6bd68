"""SQLite outbox: WAL, synchronous commits, one file per bench or one shared file for many simulated benches.

Every ``put`` is its own committed transaction, so a message acknowledged to the caller survives a
``kill -9`` and, with ``synchronous=FULL``, a power cut: SQLite's WAL either holds the whole commit or
none of it. Several simulated benches may share one database (rows carry ``bench_id``), which keeps a
10,000-bench simulation below the process's open-file limit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from twins.messages import VoteCounts
from twins.topics import TopicKind

from .base import Category, OutboxEntry, OutboxError, OutboxStats

Synchronous = Literal["FULL", "NORMAL", "OFF"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bench_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    created REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_bench ON outbox (bench_id, id);
CREATE TABLE IF NOT EXISTS vote_tally (
    bench_id TEXT NOT NULL,
    poll_id TEXT NOT NULL,
    option TEXT NOT NULL,
    votes INTEGER NOT NULL,
    PRIMARY KEY (bench_id, poll_id, option)
);
CREATE TABLE IF NOT EXISTS bench_state (
    bench_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bench_id, key)
);
"""


class AgentDatabase:
    """One SQLite file (WAL) shared by the outboxes and state of one or many benches; thread-safe."""

    def __init__(self, path: Path | str, synchronous: Synchronous = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The kiosk's request threads write votes too, hence one connection behind a lock.
        self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements in one immediate transaction, committed on success, rolled back on error.

        SQLite errors leave as OutboxError naming the database file.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as err:
                raise OutboxError(f"outbox database {self.path}: {err}") from err

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Use the connection for reads under the lock; SQLite errors leave as OutboxError."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as err:
                raise OutboxError(f"outbox database {self.path}: {err}") from err

    def get_state(self, bench_id: str, key: str) -> str | None:
        """A small persistent value of one bench (e.g. its applied config)."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT value FROM bench_state WHERE bench_id = ? AND key = ?", (bench_id, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, bench_id: str, key: str, value: str) -> None:
        """Store a small persistent value of one bench, durably."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO bench_state (bench_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (bench_id, key) DO UPDATE SET value = excluded.value",
                (bench_id, key, value),
            )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class SqliteOutbox:
    """The outbox of one bench inside an ``AgentDatabase``; implements ``outbox.base.Outbox``.

    Bounded: above ``max_messages`` old telemetry is thinned to one sample per ``thin_bucket_s``;
    if that is not enough the oldest telemetry, then the oldest non-vote events are dropped.
    Votes are never dropped, even if that means exceeding the bound.
    """

    def __init__(
        self, db: AgentDatabase, bench_id: str, max_messages: int = 20_000, thin_bucket_s: float = 600.0
    ) -> None:
        self.db = db
        self.bench_id = bench_id
        self.max_messages = max_messages
        self.thin_bucket_s = thin_bucket_s
        self._thinned = 0
        self._dropped = 0
        with db.reading() as conn:
            self._count = int(conn.execute("SELECT COUNT(*) FROM outbox WHERE bench_id = ?", (bench_id,)).fetchone()[0])

    def _insert(
        self, conn: sqlite3.Connection, kind: TopicKind, category: Category, payload: bytes, created_s: float
    ) -> int:
        cur = conn.execute(
            "INSERT INTO outbox (bench_id, kind, category, created, payload) VALUES (?, ?, ?, ?, ?)",
            (self.bench_id, kind.value, category.value, created_s, payload),
        )
        self._count += 1
        if self._count > self.max_messages:
            self._make_room(conn, newest=int(cur.lastrowid or 0))
        return int(cur.lastrowid or 0)

    def put(self, kind: TopicKind, category: Category, payload: bytes, created_s: float) -> int:
        """Store a message in its own committed transaction."""
        with self.db.transaction() as conn:
            return self._insert(conn, kind, category, payload, created_s)

    def put_vote(self, payload: bytes, poll_id: str, option: str, created_s: float) -> int:
        """Store a vote event and add it to the tally atomically."""
        with self.db.transaction() as conn:
            row_id = self._insert(conn, TopicKind.EVENTS, Category.VOTE, payload, created_s)
            conn.execute(
                "INSERT INTO vote_tally (bench_id, poll_id, option, votes) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (bench_id, poll_id, option) DO UPDATE SET votes = votes + 1",
                (self.bench_id, poll_id, option),
            )
            return row_id

    def _make_room(self, conn: sqlite3.Connection, newest: int) -> None:
        # 1. Thin: keep the first telemetry sample of every bucket (and the newest sample).
        cur = conn.execute(
            "DELETE FROM outbox WHERE bench_id = ?1 AND category = 'telemetry' AND id < ?2 AND id NOT IN ("
            " SELECT MIN(id) FROM outbox WHERE bench_id = ?1 AND category = 'telemetry'"
            " GROUP BY CAST(created / ?3 AS INTEGER))",
            (self.bench_id, newest, self.thin_bucket_s),
        )
        self._thinned += cur.rowcount
        self._count -= cur.rowcount
        # 2. Still full: drop the oldest telemetry, then the oldest events that are not votes.
        for category in (Category.TELEMETRY, Category.EVENT):
            excess = self._count - self.max_messages
            if excess <= 0:
                return
            cur = conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE bench_id = ? AND category = ?"
                " AND id < ? ORDER BY id LIMIT ?)",
                (self.bench_id, category.value, newest, excess),
            )
            self._dropped += cur.rowcount
            self._count -= cur.rowcount

    def pending(self, after_row_id: int, limit: int) -> list[OutboxEntry]:
        """Oldest messages after ``after_row_id``."""
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT id, kind, category, created, payload FROM outbox WHERE bench_id = ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (self.bench_id, after_row_id, limit),
            ).fetchall()
        return [OutboxEntry(int(r[0]), TopicKind(r[1]), Category(r[2]), float(r[3]), bytes(r[4])) for r in rows]

    def ack(self, row_id: int) -> None:
        """Delete an acknowledged message."""
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM outbox WHERE id = ? AND bench_id = ?", (row_id, self.bench_id))
            self._count -= cur.rowcount

    def count(self) -> int:
        """Messages waiting."""
        return self._count

    def add_to_tally(self, counts: VoteCounts) -> None:
        """Add votes cast before this outbox kept the tally (a simulated bench's history), without events."""
        with self.db.transaction() as conn:
            for poll_id, options in sorted(counts.items()):
                for option, votes in sorted(options.items()):
                    conn.execute(
                        "INSERT INTO vote_tally (bench_id, poll_id, option, votes) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (bench_id, poll_id, option) DO UPDATE SET votes = votes + excluded.votes",
                        (self.bench_id, poll_id, option, votes),
                    )

    def vote_counts(self) -> VoteCounts:
        """Cumulative tally of votes cast on this bench."""
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT poll_id, option, votes FROM vote_tally WHERE bench_id = ? ORDER BY poll_id, option",
                (self.bench_id,),
            ).fetchall()
        counts: VoteCounts = {}
        for poll_id, option, votes in rows:
            counts.setdefault(str(poll_id), {})[str(option)] = int(votes)
        return counts

    def stats(self) -> OutboxStats:
        """Stored, thinned and dropped counts."""
        return OutboxStats(stored=self._count, thinned=self._thinned, dropped=self._dropped)
