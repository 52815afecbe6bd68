"""SQL store of the registry and counted votes (SQLite or PostgreSQL through SQLAlchemy Core); twins: fleet.state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from fleet.db.migrate import ensure_schema
from fleet.db.schema import benches, polls, vote_counts, vote_events
from fleet.registry import BenchRecord
from fleet.state.votes import COUNTED
from fleet.state.writes import VoteRow
from twins.messages import VoteCounts
from twins.twin import Attributes

log = logging.getLogger(__name__)

__all__ = ["SqlStore", "TallyRow", "VoteRow"]


@dataclass(frozen=True, slots=True)
class TallyRow:
    """Votes of one (bench, option) pair of a poll."""

    bench_id: str
    municipality: str
    option: str
    votes: int


class SqlStore:
    """Registry, vote de-duplication and tallies on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    def create_schema(self) -> None:
        """Bring the schema to the newest revision (for tests and tools that own their database)."""
        ensure_schema(self.engine, auto_upgrade=True)

    def ping(self) -> bool:
        """Tell whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def describe(self) -> str:
        """The database kind and name, without credentials."""
        url = self.engine.url
        return f"{url.get_backend_name()} {url.database or ''}".strip()

    # --- registry ---------------------------------------------------------------------------------

    def upsert_benches(self, records: Sequence[BenchRecord], now: datetime) -> int:
        """Add or update benches (each new one gets its twin row); returns how many were written."""
        from fleet.state.twin_store import TwinStore  # the registry and twin rows are written together

        return TwinStore(self.engine).register(records, now)

    def list_benches(self) -> list[BenchRecord]:
        """Every registered bench, ordered by id."""
        with self.engine.connect() as conn:
            result = conn.execute(select(benches).order_by(benches.c.bench_id))
            return [
                BenchRecord(
                    row.bench_id,
                    Attributes(
                        name=row.name,
                        municipality=row.municipality,
                        entity=row.entity,
                        canton=row.canton,
                        lat=row.lat,
                        lon=row.lon,
                        altitude_m=row.altitude_m,
                        installed=row.installed,
                    ),
                )
                for row in result
            ]

    def count_benches(self) -> int:
        """How many benches are registered."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(benches)).scalar_one())

    # --- votes ------------------------------------------------------------------------------------

    def tally(self, poll_id: str, municipalities: frozenset[str] | None = None) -> list[TallyRow]:
        """Counted votes of a poll per bench and option, optionally limited to some municipalities."""
        e = vote_events.c
        # Only the owner's votes (any town's for a fleet poll): votes counted before the poll had an owner
        # never merge another town's tallies into it.
        owned = or_(polls.c.poll_id.is_(None), polls.c.owner.is_(None), polls.c.owner == e.municipality)
        q = (
            select(e.bench_id, e.municipality, e.option, func.count())
            .select_from(vote_events.outerjoin(polls, polls.c.poll_id == e.poll_id))
            .where(e.poll_id == poll_id, e.status == COUNTED, owned)
            .group_by(vote_events.c.bench_id, vote_events.c.municipality, vote_events.c.option)
            .order_by(vote_events.c.bench_id, vote_events.c.option)
        )
        if municipalities is not None:
            q = q.where(vote_events.c.municipality.in_(sorted(municipalities)))
        with self.engine.connect() as conn:
            return [TallyRow(r[0], r[1], r[2], int(r[3])) for r in conn.execute(q)]

    def vote_times(
        self, poll_id: str, start: datetime, end: datetime, municipalities: frozenset[str] | None = None
    ) -> list[datetime]:
        """When each counted vote of a poll was cast, within [start, end) and the municipalities given."""
        q = select(vote_events.c.ts).where(
            vote_events.c.poll_id == poll_id,
            vote_events.c.status == COUNTED,
            vote_events.c.ts >= start,
            vote_events.c.ts < end,
        )
        if municipalities is not None:
            q = q.where(vote_events.c.municipality.in_(sorted(municipalities)))
        with self.engine.connect() as conn:
            # SQLite hands back naive datetimes (stored as UTC): make them aware again.
            return [t if t.tzinfo else t.replace(tzinfo=UTC) for (t,) in conn.execute(q)]

    def counted_votes_by_bench(self) -> dict[str, VoteCounts]:
        """Counted votes per bench, poll and option (kept with the vote events in one transaction)."""
        q = select(vote_counts.c.bench_id, vote_counts.c.poll_id, vote_counts.c.option, vote_counts.c.votes)
        out: dict[str, VoteCounts] = {}
        with self.engine.connect() as conn:
            for bench_id, poll_id, option, n in conn.execute(q):
                if n:
                    out.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
        return out

    def vote_count(self) -> int:
        """All stored vote events: counted, held as suspect or discarded by a review (nothing is dropped)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(vote_events)).scalar_one())
