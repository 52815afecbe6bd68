"""Counting vote events exactly once, inside the caller's transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from fleet.db.schema import vote_counts, vote_events
from fleet.state.writes import VoteRow


def dialect_insert(conn: Connection, table: object) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support for the connection's dialect."""
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return make(table)  # type: ignore[arg-type]


def insert_votes(conn: Connection, votes: Sequence[VoteRow], received_at: datetime) -> list[VoteRow]:
    """Insert vote events, ignoring ids already counted, and add the new ones to ``vote_counts``;
    returns the votes counted now for the first time."""
    unique = {str(v.event.id): v for v in votes}
    if not unique:
        return []
    # One lock order for every writer: two ingesters inserting overlapping batches in different
    # orders would otherwise deadlock on PostgreSQL's unique index.
    rows = [
        {
            "event_id": event_id,
            "bench_id": v.event.bench_id,
            "municipality": v.municipality,
            "poll_id": v.event.data.poll_id,
            "option": v.event.data.option,
            "ts": v.event.ts,
            "received_at": received_at,
        }
        for event_id, v in sorted(unique.items())
    ]
    stmt = (
        dialect_insert(conn, vote_events)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(vote_events.c.event_id)
    )
    new_ids = {row[0] for row in conn.execute(stmt, rows)}
    new = [unique[i] for i in sorted(new_ids)]
    add_counts(conn, Counter((v.event.bench_id, v.event.data.poll_id, v.event.data.option) for v in new))
    return new


def add_counts(conn: Connection, counts: Counter[tuple[str, str, str]]) -> None:
    """Add to the counted votes per (bench, poll, option), in one sorted order (no deadlocks)."""
    if not counts:
        return
    rows = [{"bench_id": b, "poll_id": p, "option": o, "votes": n} for (b, p, o), n in sorted(counts.items())]
    stmt = dialect_insert(conn, vote_counts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["bench_id", "poll_id", "option"], set_={"votes": vote_counts.c.votes + stmt.excluded.votes}
    )
    conn.execute(stmt, rows)
