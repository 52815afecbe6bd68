"""Counting vote events exactly once, inside the caller's transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from fleet.db.schema import twins, vote_counts, vote_events
from fleet.state.writes import VoteRow

COUNTED = "counted"
SUSPECT = "suspect"
DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class VoteRate:
    """The most valid votes one bench may plausibly send for one poll within ``window`` (a touchscreen vote
    takes seconds); beyond it, and while earlier ones await review, its votes are held as suspect."""

    limit: int = 120
    window: timedelta = timedelta(minutes=10)


#: No arrival-rate check: for history the fleet writes itself (the simulator's backfill), not sent by a bench.
UNLIMITED = VoteRate(limit=2**62)


@dataclass(frozen=True, slots=True)
class InsertedVotes:
    """The votes a transaction stored for the first time: counted, and held as suspect."""

    counted: list[VoteRow]
    suspect: list[VoteRow]


def dialect_insert(conn: Connection, table: object) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support for the connection's dialect."""
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return make(table)  # type: ignore[arg-type]


def _statuses(conn: Connection, unique: dict[str, VoteRow], received_at: datetime, rate: VoteRate) -> dict[str, str]:
    """counted or suspect per event id: by arrival (server time, which a bench cannot forge) per bench+poll."""
    pairs = sorted({(v.event.bench_id, v.event.data.poll_id) for v in unique.values()})
    e = vote_events.c
    recent = (
        select(e.bench_id, e.poll_id, func.count())
        .where(tuple_(e.bench_id, e.poll_id).in_(pairs), e.received_at > received_at - rate.window)
        .group_by(e.bench_id, e.poll_id)
    )
    seen = {(b, p): int(n) for b, p, n in conn.execute(recent)}
    held_any = select(e.bench_id, e.poll_id).where(tuple_(e.bench_id, e.poll_id).in_(pairs), e.status == SUSPECT)
    pending = {(b, p) for b, p in conn.execute(held_any.distinct())}
    statuses: dict[str, str] = {}
    for event_id, v in sorted(unique.items(), key=lambda kv: (kv[1].event.ts, kv[0])):
        key = (v.event.bench_id, v.event.data.poll_id)
        n = seen.get(key, 0)
        seen[key] = n + 1
        suspect = key in pending or n >= rate.limit
        if suspect:
            pending.add(key)
        statuses[event_id] = SUSPECT if suspect else COUNTED
    return statuses


def insert_votes(
    conn: Connection, votes: Sequence[VoteRow], received_at: datetime, rate: VoteRate | None = None
) -> InsertedVotes:
    """Insert vote events, ignoring ids already stored; add the new plausible ones to ``vote_counts`` and
    hold the rest as suspect (counted per bench on ``twins.votes_suspect``)."""
    unique = {str(v.event.id): v for v in votes}
    if not unique:
        return InsertedVotes([], [])
    statuses = _statuses(conn, unique, received_at, rate or VoteRate())
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
            "status": statuses[event_id],
        }
        for event_id, v in sorted(unique.items())
    ]
    stmt = (
        dialect_insert(conn, vote_events)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(vote_events.c.event_id)
    )
    new_ids = sorted(row[0] for row in conn.execute(stmt, rows))
    new = [unique[i] for i in new_ids if statuses[i] == COUNTED]
    held = [unique[i] for i in new_ids if statuses[i] == SUSPECT]
    add_counts(conn, Counter((v.event.bench_id, v.event.data.poll_id, v.event.data.option) for v in new))
    add_suspect(conn, Counter(v.event.bench_id for v in held))
    return InsertedVotes(new, held)


def add_suspect(conn: Connection, per_bench: Counter[str]) -> None:
    """Move each bench's count of held votes by ``per_bench`` (negative after a review)."""
    for bench_id, n in sorted(per_bench.items()):
        if n:
            stmt = update(twins).where(twins.c.bench_id == bench_id)
            conn.execute(stmt.values(votes_suspect=twins.c.votes_suspect + n))


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
