"""The twins as SQL owns them: registration, one transaction per ingestion batch, reads that build Twin models."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnClause

from fleet.db.schema import benches, twins, vote_counts
from fleet.registry import BenchRecord
from fleet.state.rows import ParseMemo, twin_from_row, twin_select
from fleet.state.votes import VoteRate, dialect_insert, insert_votes
from fleet.state.writes import BatchOutcome, TwinWrites
from twins.messages import Reported, Telemetry, VoteCounts
from twins.twin import Attributes, Twin, default_config, votes_mismatch

UNASSIGNED = "Unassigned"

_t = twins.c


def _newer_telemetry(ts: ColumnElement[Any], seq: ColumnElement[Any]) -> ColumnElement[bool]:
    """The candidate sample (``ts``, ``seq``) is newer than the one the row holds."""
    # ts first: seq restarts at every boot; seq breaks ties within one second. NULL counts as older.
    return or_(_t.telemetry_ts.is_(None), _t.telemetry_ts < ts, and_(_t.telemetry_ts == ts, _t.telemetry_seq < seq))


# The section conditions, with the candidate value as bind parameters: each section's UPDATE runs as one
# executemany over every bench of the batch (pipelined by psycopg), not one round trip per bench.
_NEWER_TELEMETRY = _newer_telemetry(bindparam("b_ts"), bindparam("b_seq"))
_NEWER_REPORTED = or_(
    # The very document held (a retained redelivery on every reconnect) is no new version.
    _t.reported_ts.is_(None),
    _t.reported_ts < bindparam("b_ts"),
    and_(_t.reported_ts == bindparam("b_ts"), _t.reported != bindparam("b_doc")),
)
_NEWER_STATUS = and_(
    # A stale retained last will (older ts) is ignored; the same status again is no change.
    or_(_t.status_ts.is_(None), _t.status_ts <= bindparam("b_ts")),
    or_(
        _t.online.is_distinct_from(bindparam("b_online")),
        _t.reason.is_distinct_from(bindparam("b_reason")),
        _t.status_ts.is_distinct_from(bindparam("b_ts")),
    ),
)
_ID = _t.bench_id == bindparam("b_id")
# A sample that moves the twin also says the bench was heard from: last_seen moves in the same row update
# (a second UPDATE of every row of a batch for last_seen alone was a third of PostgreSQL's work in a drain).
_SEEN_NOW = case(
    (or_(_t.last_seen.is_(None), _t.last_seen < bindparam("b_now")), bindparam("b_now")), else_=_t.last_seen
)
_SET_TELEMETRY = (
    update(twins)
    .where(_ID, _NEWER_TELEMETRY)
    .values(
        telemetry=bindparam("b_doc"),
        telemetry_ts=bindparam("b_ts"),
        telemetry_seq=bindparam("b_seq"),
        telemetry_version=_t.telemetry_version + 1,
        last_seen=_SEEN_NOW,
        updated_at=bindparam("b_now"),
    )
)
# On PostgreSQL a batch's samples travel as ONE JSON parameter and move every twin in one statement: the
# executemany above costs SQLAlchemy and psycopg a parameter set per bench (~15 % of an ingest worker),
# and text arrays cost psycopg a regular expression per element to escape the documents (measured: 3x more).
_SAMPLE = func.json_array_elements(cast(bindparam("samples", type_=Text), JSON)).table_valued("value").alias("sample")
_SAMPLE_ID = _SAMPLE.c.value.op("->>")(0)
_SAMPLE_DOC = _SAMPLE.c.value.op("->>")(1)
_SAMPLE_TS = cast(_SAMPLE.c.value.op("->>")(2), DateTime(timezone=True))
_SAMPLE_SEQ = cast(_SAMPLE.c.value.op("->>")(3), BigInteger)
_SET_TELEMETRY_JSON = (
    update(twins)
    .where(_t.bench_id == _SAMPLE_ID, _newer_telemetry(_SAMPLE_TS, _SAMPLE_SEQ))
    .values(
        telemetry=_SAMPLE_DOC,
        telemetry_ts=_SAMPLE_TS,
        telemetry_seq=_SAMPLE_SEQ,
        telemetry_version=_t.telemetry_version + 1,
        last_seen=_SEEN_NOW,
        updated_at=bindparam("b_now"),
    )
)
_SET_REPORTED = (
    update(twins)
    .where(_ID, _NEWER_REPORTED)
    .values(
        reported=bindparam("b_doc"),
        reported_ts=bindparam("b_ts"),
        reported_version=_t.reported_version + 1,
        updated_at=bindparam("b_now"),
    )
)
_SET_STATUS = (
    update(twins)
    .where(_ID, _NEWER_STATUS)
    .values(
        online=bindparam("b_online"),
        reason=bindparam("b_reason"),
        status_ts=bindparam("b_ts"),
        connectivity_version=_t.connectivity_version + 1,
        connectivity_updated=bindparam("b_ts"),
        updated_at=bindparam("b_now"),
    )
)
#: Which version column tells that a section UPDATE applied, in the order a twin's change is named.
_SECTION_VERSIONS = (
    ("telemetry", "telemetry_version"),
    ("reported", "reported_version"),
    ("connectivity", "connectivity_version"),
)


def member_of(conn: Connection, column: ColumnClause[str] | Any, ids: Sequence[str]) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:array)``, one bound array: an IN list of a batch's
    ~600 ids was rendered into the SQL text every time (a new statement for SQLAlchemy's and psycopg's
    caches, 15 % of an ingest worker's CPU, measured), while the array keeps one statement text."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    return column.in_(ids)


def _versions(conn: Connection, ids: list[str], lock: bool) -> dict[str, Any]:
    q = select(
        _t.bench_id, _t.desired_version, _t.reported, _t.telemetry_version, _t.reported_version, _t.connectivity_version
    ).where(member_of(conn, _t.bench_id, ids))
    if lock:
        q = q.order_by(_t.bench_id).with_for_update()
    return {row.bench_id: row for row in conn.execute(q)}


def _set_telemetry(conn: Connection, samples: list[tuple[str, Telemetry]], docs: dict[str, str], now: datetime) -> None:
    """Move each bench's telemetry to its sample where the sample is newer (one statement on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        # isoformat keeps the microseconds: the next sample's "same ts, higher seq" test compares them.
        payload = json.dumps([[b, docs[b], x.ts.isoformat(), x.seq] for b, x in samples])
        conn.execute(_SET_TELEMETRY_JSON, {"samples": payload, "b_now": now})
        return
    rows = [{"b_id": b, "b_doc": docs[b], "b_ts": x.ts, "b_seq": x.seq, "b_now": now} for b, x in samples]
    conn.execute(_SET_TELEMETRY, rows)


def auto_registered(bench_id: str) -> BenchRecord:
    """The registry entry of an unknown bench that spoke first (BENCHFLEET_AUTO_REGISTER=1)."""
    return BenchRecord(bench_id, Attributes(name=bench_id, municipality=UNASSIGNED, lat=0.0, lon=0.0))


class TwinStore:
    """Every twin, owned by the database: each section written by a conditional statement."""

    def __init__(self, engine: Engine, vote_rate: VoteRate | None = None) -> None:
        self.engine = engine
        self.vote_rate = vote_rate or VoteRate()
        self._memo = ParseMemo()

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
        if not ids:  # only rejected messages: no transaction at all
            return BatchOutcome(changed, [], 0, {})
        with self.engine.begin() as conn:
            if writes.register:
                _register(conn, [writes.register[b] for b in sorted(writes.register)], now)
            # Lock the batch's twins in bench id order first: batches of several workers touching the
            # same benches then queue instead of deadlocking, and the versions read here stay true until
            # the commit, so comparing them after the UPDATEs tells which sections this batch moved.
            held = _versions(conn, ids, lock=True)
            before: dict[str, tuple[int, Reported | None]] = {
                b: (row.desired_version, Reported.model_validate_json(row.reported) if row.reported else None)
                for b, row in held.items()
                if b in writes.reported
            }
            inserted = insert_votes(conn, list(writes.votes.values()), now, self.vote_rate)
            new_votes = inserted.counted
            arrived = writes.telemetry_docs
            telemetry_docs = {b: arrived.get(b) or x.model_dump_json() for b, x in writes.telemetry.items()}
            reported_docs = {b: x.model_dump_json() for b, x in writes.reported.items()}
            if writes.telemetry:
                _set_telemetry(conn, sorted(writes.telemetry.items()), telemetry_docs, now)
            if writes.reported:
                conn.execute(
                    _SET_REPORTED,
                    [
                        {"b_id": b, "b_doc": reported_docs[b], "b_ts": x.ts, "b_now": now}
                        for b, x in sorted(writes.reported.items())
                    ],
                )
            if writes.status:
                conn.execute(
                    _SET_STATUS,
                    [
                        {"b_id": b, "b_online": x.online, "b_reason": x.reason, "b_ts": x.ts, "b_now": now}
                        for b, x in sorted(writes.status.items())
                    ],
                )
            after = _versions(conn, ids, lock=False) if (writes.telemetry or writes.reported or writes.status) else held
            for bench_id, row in after.items():
                old = held.get(bench_id)
                for section, column in _SECTION_VERSIONS:
                    if old is not None and getattr(row, column) != getattr(old, column):
                        changed[bench_id] = section
            moved = {
                b
                for b in writes.telemetry
                if b in after and b in held and after[b].telemetry_version != held[b].telemetry_version
            }
            if unseen := writes.seen - moved:  # the moved ones' telemetry UPDATE set last_seen already
                older = or_(_t.last_seen.is_(None), _t.last_seen < now)
                seen = member_of(conn, _t.bench_id, sorted(unseen))
                conn.execute(update(twins).where(seen, older).values(last_seen=now))
            for vote in (*new_votes, *inserted.suspect):
                changed[vote.event.bench_id] = "votes"
            recheck = moved | {v.event.bench_id for v in new_votes}
            before = {b: was for b, was in before.items() if after[b].reported_version != held[b].reported_version}
            # The moved benches now hold exactly the sample in hand: no need to read its JSON back.
            _reconcile_votes(conn, sorted(recheck), now, {b: writes.telemetry[b].votes for b in moved})
        # The read-back of the changed twins (events) parses their JSON sections through the memo: seed it
        # with what this batch wrote, so the text just written is not validated again. Keyed by the exact
        # text, so a row another writer moved further is still parsed from what SQL holds.
        for b in moved:
            self._memo.telemetry[b] = (telemetry_docs[b], writes.telemetry[b])
        for b, doc in writes.reported.items():
            if b in before:
                self._memo.reported[b] = (reported_docs[b], doc)
        return BatchOutcome(changed, new_votes, len(moved), before, inserted.suspect)

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
            q = q.where(member_of(conn, _t.bench_id, ids))
            cq = cq.where(member_of(conn, vote_counts.c.bench_id, ids))
        counted: dict[str, VoteCounts] = {}
        for bench_id, poll_id, option, n in conn.execute(cq):
            if n:
                counted.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
        memo = self._memo
        return [twin_from_row(row._mapping, counted.get(row.bench_id, {}), memo) for row in conn.execute(q)]


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


def _reconcile_votes(
    conn: Connection, bench_ids: list[str], now: datetime, known: dict[str, VoteCounts] | None = None
) -> None:
    """Set or clear votes_mismatch_since from the bench's own counts and the counted votes (rows locked);
    ``known``: the bench's own counts where the caller holds the stored sample (its JSON is not read back)."""
    if not bench_ids:
        return
    known = known or {}
    bench_votes: dict[str, VoteCounts | None] = dict(known)
    flagged: set[str] = set()
    held = select(_t.bench_id, _t.votes_mismatch_since).where(member_of(conn, _t.bench_id, bench_ids))
    for bench_id, since in conn.execute(held):
        if since is not None:
            flagged.add(bench_id)
    unknown = [b for b in bench_ids if b not in known]
    if unknown:
        stored = select(_t.bench_id, _t.telemetry).where(member_of(conn, _t.bench_id, unknown))
        for bench_id, telemetry in conn.execute(stored):
            bench_votes[bench_id] = json.loads(telemetry)["votes"] if telemetry else None
    counted: dict[str, VoteCounts] = {}
    rows = select(vote_counts.c.bench_id, vote_counts.c.poll_id, vote_counts.c.option, vote_counts.c.votes).where(
        member_of(conn, vote_counts.c.bench_id, bench_ids)
    )
    for bench_id, poll_id, option, n in conn.execute(rows):
        counted.setdefault(bench_id, {}).setdefault(poll_id, {})[option] = int(n)
    for bench_id in bench_ids:
        mismatch = votes_mismatch(bench_votes.get(bench_id), counted.get(bench_id, {}))
        if mismatch and bench_id not in flagged:
            # The first time a mismatch is seen is kept: the health rule waits a grace period from it.
            stmt = update(twins).where(_t.bench_id == bench_id, _t.votes_mismatch_since.is_(None))
            conn.execute(stmt.values(votes_mismatch_since=now))
        elif not mismatch and bench_id in flagged:
            stmt = update(twins).where(_t.bench_id == bench_id, _t.votes_mismatch_since.is_not(None))
            conn.execute(stmt.values(votes_mismatch_since=None))
