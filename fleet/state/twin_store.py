"""The twins as SQL owns them: registration, one transaction per ingestion batch, reads that build Twin models."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from fleet.db.schema import benches, twins, vote_counts
from fleet.registry import BenchRecord
from fleet.state.rows import twin_from_row, twin_select
from fleet.state.votes import dialect_insert, insert_votes
from fleet.state.writes import BatchOutcome, TwinWrites
from twins.messages import Reported, Status, Telemetry, VoteCounts
from twins.twin import Attributes, Twin, default_config, votes_mismatch

UNASSIGNED = "Unassigned"

_t = twins.c


def _newer_telemetry(sample: Telemetry) -> Any:
    # ts first: seq restarts at every boot; seq breaks ties within one second. NULL counts as older.
    return or_(
        _t.telemetry_ts.is_(None),
        _t.telemetry_ts < sample.ts,
        and_(_t.telemetry_ts == sample.ts, _t.telemetry_seq < sample.seq),
    )


def _newer_reported(doc: Reported, text: str) -> Any:
    # The very document held (a retained redelivery on every reconnect) is no new version.
    return or_(_t.reported_ts.is_(None), _t.reported_ts < doc.ts, and_(_t.reported_ts == doc.ts, _t.reported != text))


def _newer_status(status: Status) -> Any:
    # A stale retained last will (older ts) is ignored; the same status again is no change.
    return and_(
        or_(_t.status_ts.is_(None), _t.status_ts <= status.ts),
        or_(
            _t.online.is_distinct_from(status.online),
            _t.reason.is_distinct_from(status.reason),
            _t.status_ts.is_distinct_from(status.ts),
        ),
    )


def auto_registered(bench_id: str) -> BenchRecord:
    """The registry entry of an unknown bench that spoke first (BENCHFLEET_AUTO_REGISTER=1)."""
    return BenchRecord(bench_id, Attributes(name=bench_id, municipality=UNASSIGNED, lat=0.0, lon=0.0))


class TwinStore:
    """Every twin, owned by the database: each section written by a conditional statement."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- registry -------------------------------------------------------------------------------------

    def register(self, records: Iterable[BenchRecord], now: datetime) -> int:
        """Add or update benches and give each new one a twin (default desired config), in one transaction."""
        records = list(records)
        if records:
            with self.engine.begin() as conn:
                _register(conn, records, now)
        return len(records)

    def ensure_rows(self, now: datetime) -> int:
        """Give every registered bench without a twin row one (default desired config); returns how many."""
        missing = select(benches.c.bench_id).where(~benches.c.bench_id.in_(select(_t.bench_id)))
        with self.engine.begin() as conn:
            ids = [row[0] for row in conn.execute(missing)]
            if ids:
                desired = default_config().model_dump_json()
                rows = [{"bench_id": b, "desired": desired, "updated_at": now} for b in ids]
                conn.execute(dialect_insert(conn, twins).on_conflict_do_nothing(index_elements=["bench_id"]), rows)
        return len(ids)

    def municipalities(self, bench_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Municipality of each registered bench (of ``bench_ids``, or all)."""
        q = select(benches.c.bench_id, benches.c.municipality)
        if bench_ids is not None:
            q = q.where(benches.c.bench_id.in_(sorted(set(bench_ids))))
        with self.engine.connect() as conn:
            return {row[0]: row[1] for row in conn.execute(q)}

    # --- one ingestion batch ---------------------------------------------------------------------------

    def apply_batch(self, writes: TwinWrites, now: datetime) -> BatchOutcome:
        """Register, count votes and move every twin section forward in ONE transaction."""
        ids = writes.benches()
        changed: dict[str, str] = {}
        with self.engine.begin() as conn:
            if writes.register:
                _register(conn, [writes.register[b] for b in sorted(writes.register)], now)
            # Lock the batch's twins in bench id order first: batches of several workers touching the
            # same benches then queue instead of deadlocking, and what is read below stays true.
            before: dict[str, tuple[int, Reported | None]] = {}
            locked = select(_t.bench_id, _t.desired_version, _t.reported).where(_t.bench_id.in_(ids))
            for bench_id, desired_version, reported in conn.execute(locked.order_by(_t.bench_id).with_for_update()):
                if bench_id in writes.reported:
                    before[bench_id] = (desired_version, Reported.model_validate_json(reported) if reported else None)
            new_votes = insert_votes(conn, list(writes.votes.values()), now)
            applied = 0
            for bench_id in sorted(writes.telemetry):
                sample = writes.telemetry[bench_id]
                stmt = (
                    update(twins)
                    .where(_t.bench_id == bench_id, _newer_telemetry(sample))
                    .values(
                        telemetry=sample.model_dump_json(),
                        telemetry_ts=sample.ts,
                        telemetry_seq=sample.seq,
                        telemetry_version=_t.telemetry_version + 1,
                        updated_at=now,
                    )
                )
                if conn.execute(stmt).rowcount:
                    changed[bench_id] = "telemetry"
                    applied += 1
            for bench_id in sorted(writes.reported):
                doc = writes.reported[bench_id]
                text = doc.model_dump_json()
                stmt = (
                    update(twins)
                    .where(_t.bench_id == bench_id, _newer_reported(doc, text))
                    .values(reported=text, reported_ts=doc.ts, reported_version=_t.reported_version + 1, updated_at=now)
                )
                if conn.execute(stmt).rowcount:
                    changed[bench_id] = "reported"
            for bench_id in sorted(writes.status):
                status = writes.status[bench_id]
                stmt = (
                    update(twins)
                    .where(_t.bench_id == bench_id, _newer_status(status))
                    .values(
                        online=status.online,
                        reason=status.reason,
                        status_ts=status.ts,
                        connectivity_version=_t.connectivity_version + 1,
                        connectivity_updated=status.ts,
                        updated_at=now,
                    )
                )
                if conn.execute(stmt).rowcount:
                    changed[bench_id] = "connectivity"
            if writes.seen:
                conn.execute(
                    update(twins)
                    .where(_t.bench_id.in_(sorted(writes.seen)), or_(_t.last_seen.is_(None), _t.last_seen < now))
                    .values(last_seen=now)
                )
            for vote in new_votes:
                changed[vote.event.bench_id] = "votes"
            recheck = {b for b, s in changed.items() if s in ("telemetry", "votes")} | {
                v.event.bench_id for v in new_votes
            }
            _reconcile_votes(conn, sorted(recheck), now)
        return BatchOutcome(changed, new_votes, applied, before)

    # --- reads ----------------------------------------------------------------------------------------

    def get_twin(self, bench_id: str, conn: Connection | None = None) -> Twin | None:
        """One twin as committed now, or None for an unknown bench."""
        return self.get_twins([bench_id], conn).get(bench_id)

    def get_twins(self, bench_ids: Sequence[str], conn: Connection | None = None) -> dict[str, Twin]:
        """Twins of some benches, in one SELECT (plus their counted votes)."""
        if not bench_ids:
            return {}
        ids = sorted(set(bench_ids))
        return {t.bench_id: t for t in self._read(conn, ids)}

    def list_twins(self) -> list[Twin]:
        """Every twin, ordered by bench id."""
        return self._read(None, None)

    def _read(self, conn: Connection | None, ids: list[str] | None) -> list[Twin]:
        if conn is None:
            with self.engine.connect() as own:
                return self._read(own, ids)
        q = twin_select().order_by(_t.bench_id)
        cq = select(vote_counts.c.bench_id, vote_counts.c.poll_id, vote_counts.c.option, vote_counts.c.votes)
        if ids is not None:
            q = q.where(_t.bench_id.in_(ids))
            cq = cq.where(vote_counts.c.bench_id.in_(ids))
        counted: dict[str, VoteCounts] = {}
        for bench_id, poll_id, option, n in conn.execute(cq):
            if n:
                counted.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
        return [twin_from_row(dict(row._mapping), counted.get(row.bench_id, {})) for row in conn.execute(q)]


def _register(conn: Connection, records: Sequence[BenchRecord], now: datetime) -> None:
    rows = [
        {"bench_id": r.bench_id, **r.attributes.model_dump(), "created_at": now, "updated_at": now} for r in records
    ]
    stmt = dialect_insert(conn, benches)
    update_cols = {c: stmt.excluded[c] for c in (*Attributes.model_fields, "updated_at")}
    conn.execute(stmt.on_conflict_do_update(index_elements=["bench_id"], set_=update_cols), rows)
    desired = default_config().model_dump_json()
    twin_rows = [{"bench_id": r.bench_id, "desired": desired, "updated_at": now} for r in records]
    conn.execute(dialect_insert(conn, twins).on_conflict_do_nothing(index_elements=["bench_id"]), twin_rows)


def _reconcile_votes(conn: Connection, bench_ids: list[str], now: datetime) -> None:
    """Set or clear votes_mismatch_since from the bench's own counts and the counted votes (rows locked)."""
    if not bench_ids:
        return
    bench_votes: dict[str, VoteCounts | None] = {}
    for bench_id, telemetry in conn.execute(select(_t.bench_id, _t.telemetry).where(_t.bench_id.in_(bench_ids))):
        bench_votes[bench_id] = json.loads(telemetry)["votes"] if telemetry else None
    counted: dict[str, VoteCounts] = {}
    rows = select(vote_counts.c.bench_id, vote_counts.c.poll_id, vote_counts.c.option, vote_counts.c.votes).where(
        vote_counts.c.bench_id.in_(bench_ids)
    )
    for bench_id, poll_id, option, n in conn.execute(rows):
        counted.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
    for bench_id in bench_ids:
        if votes_mismatch(bench_votes.get(bench_id), counted.get(bench_id, {})):
            # The first time a mismatch is seen is kept: the health rule waits a grace period from it.
            stmt = update(twins).where(_t.bench_id == bench_id, _t.votes_mismatch_since.is_(None))
            conn.execute(stmt.values(votes_mismatch_since=now))
        else:
            stmt = update(twins).where(_t.bench_id == bench_id, _t.votes_mismatch_since.is_not(None))
            conn.execute(stmt.values(votes_mismatch_since=None))
