"""SQL store of the registry, twins and counted votes (SQLite or PostgreSQL through SQLAlchemy Core)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Engine, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from fleet.db.metadata import metadata
from fleet.db.schema import FLEET_TABLES, benches, twins, vote_events
from fleet.registry import BenchRecord
from twins.messages import VoteCounts, VoteEvent
from twins.twin import Attributes, Twin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A vote event to record, with the municipality it is counted for."""

    event: VoteEvent
    municipality: str


@dataclass(frozen=True, slots=True)
class TallyRow:
    """Votes of one (bench, option) pair of a poll."""

    bench_id: str
    municipality: str
    option: str
    votes: int


class SqlStore:
    """Registry, twin documents and vote de-duplication on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    def create_schema(self) -> None:
        """Create the fleet tables if missing."""
        metadata.create_all(self.engine, tables=list(FLEET_TABLES))

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

    def _insert(self, table: object) -> postgresql.Insert | sqlite.Insert:
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        return dialect_insert(table)  # type: ignore[arg-type]

    def upsert_benches(self, records: Sequence[BenchRecord], now: datetime) -> int:
        """Add or update benches; returns how many rows were written."""
        if not records:
            return 0
        rows = [
            {"bench_id": r.bench_id, **r.attributes.model_dump(), "created_at": now, "updated_at": now} for r in records
        ]
        stmt = self._insert(benches)
        update_cols = {c: stmt.excluded[c] for c in (*Attributes.model_fields, "updated_at")}
        stmt = stmt.on_conflict_do_update(index_elements=["bench_id"], set_=update_cols)
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)
        return len(rows)

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

    # --- twins ------------------------------------------------------------------------------------

    def load_twins(self) -> list[Twin]:
        """Every stored twin document that still validates; an unreadable one is logged and skipped
        (the repository then starts that bench from its registry entry, and messages rebuild it)."""
        loaded = []
        with self.engine.connect() as conn:
            for row in conn.execute(select(twins.c.bench_id, twins.c.doc)):
                try:
                    loaded.append(Twin.model_validate_json(row.doc))
                except ValidationError as err:
                    log.error("stored twin of %r is unreadable, starting it afresh: %s", row.bench_id, err)
        return loaded

    def save_twins(self, items: Iterable[Twin], now: datetime) -> int:
        """Upsert twin documents in one transaction."""
        rows = [{"bench_id": t.bench_id, "doc": t.model_dump_json(), "updated_at": now} for t in items]
        if not rows:
            return 0
        stmt = self._insert(twins)
        stmt = stmt.on_conflict_do_update(
            index_elements=["bench_id"], set_={"doc": stmt.excluded.doc, "updated_at": stmt.excluded.updated_at}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)
        return len(rows)

    # --- votes ------------------------------------------------------------------------------------

    def record_votes(self, votes: Sequence[VoteRow], received_at: datetime) -> set[str]:
        """Insert vote events, ignoring ids already counted; returns the ids counted now for the first time."""
        if not votes:
            return set()
        rows = [
            {
                "event_id": str(v.event.id),
                "bench_id": v.event.bench_id,
                "municipality": v.municipality,
                "poll_id": v.event.data.poll_id,
                "option": v.event.data.option,
                "ts": v.event.ts,
                "received_at": received_at,
            }
            for v in votes
        ]
        # One lock order for every writer: two ingesters inserting overlapping batches in different
        # orders would otherwise deadlock on PostgreSQL's unique index.
        rows.sort(key=lambda r: str(r["event_id"]))
        stmt = (
            self._insert(vote_events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(vote_events.c.event_id)
        )
        with self.engine.begin() as conn:
            inserted = conn.execute(stmt, rows)
            return {row[0] for row in inserted}

    def tally(self, poll_id: str, municipalities: frozenset[str] | None = None) -> list[TallyRow]:
        """Counted votes of a poll per bench and option, optionally limited to some municipalities."""
        q = (
            select(vote_events.c.bench_id, vote_events.c.municipality, vote_events.c.option, func.count())
            .where(vote_events.c.poll_id == poll_id)
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
            vote_events.c.poll_id == poll_id, vote_events.c.ts >= start, vote_events.c.ts < end
        )
        if municipalities is not None:
            q = q.where(vote_events.c.municipality.in_(sorted(municipalities)))
        with self.engine.connect() as conn:
            # SQLite hands back naive datetimes (stored as UTC): make them aware again.
            return [t if t.tzinfo else t.replace(tzinfo=UTC) for (t,) in conn.execute(q)]

    def counted_votes_by_bench(self) -> dict[str, VoteCounts]:
        """Counted votes per bench, poll and option (the authority the twins are reconciled against)."""
        q = select(vote_events.c.bench_id, vote_events.c.poll_id, vote_events.c.option, func.count()).group_by(
            vote_events.c.bench_id, vote_events.c.poll_id, vote_events.c.option
        )
        out: dict[str, VoteCounts] = {}
        with self.engine.connect() as conn:
            for bench_id, poll_id, option, n in conn.execute(q):
                out.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
        return out

    def vote_count(self) -> int:
        """All counted votes."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(vote_events)).scalar_one())


def utcnow() -> datetime:
    """Fallback wall clock for callers without one (CLI one-shots)."""
    return datetime.now(UTC)
