"""The audit log: who did what to which bench or object, when, with the state before and after (append-only).

There is deliberately no UPDATE or DELETE anywhere in this module; on PostgreSQL the migration
``0004_ops`` adds a trigger that refuses both, so not even a hand-written statement can rewrite history.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, DateTime, Engine, Index, Integer, String, Table, Text, select

from fleet.db.metadata import metadata
from fleet.db.schema import benches, desired_history
from twins.clock import Clock, SystemClock, to_rfc3339

audit_log = Table(
    "audit_log",
    metadata,
    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    # The bench concerned, if any, and its municipality then: what scoping by municipality filters on.
    Column("bench_id", String(64), nullable=True),
    Column("municipality", String(100), nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_bench", audit_log.c.bench_id, audit_log.c.at)

_a = audit_log.c
MAX_ENTRIES = 5000
CSV_COLUMNS = ("at", "actor", "action", "target", "bench_id", "before", "after")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    bench_id: str | None
    municipality: str | None
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        """The API form (contract section 5) plus the bench id."""
        return {
            "at": to_rfc3339(self.at),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "bench_id": self.bench_id,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of a read: entries at or after ``since``, by ``actor``, about ``bench_id``; newest first."""

    since: datetime | None = None
    actor: str | None = None
    bench_id: str | None = None
    limit: int = 500


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _aware(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The top-level keys whose values differ, as (before, after) documents holding only those keys."""
    keys = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


def append(
    conn: Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    bench_id: str | None = None,
) -> None:
    """Insert one entry in ``conn``'s transaction (the bench's municipality is looked up for scoping)."""
    municipality = None
    if bench_id is not None:
        municipality = conn.execute(
            select(benches.c.municipality).where(benches.c.bench_id == bench_id)
        ).scalar_one_or_none()
    conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor[:64],
            action=action[:64],
            target=target[:200],
            bench_id=bench_id,
            municipality=municipality,
            before=_dump(before),
            after=_dump(after),
        )
    )


def _default_config() -> dict[str, Any]:
    from twins.twin import default_config

    doc: dict[str, Any] = json.loads(default_config().model_dump_json())
    return doc


class AuditLog:
    """Appends entries and reads them back, filtered and scoped by municipality."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        *,
        bench_id: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Append one entry (``before``/``after`` JSON-able); inside ``conn``'s transaction when given, so the
        entry commits or rolls back with the change it describes."""
        if conn is None:
            with self.engine.begin() as own:
                append(own, self._clock.now(), actor, action, target, before, after, bench_id)
        else:
            append(conn, self._clock.now(), actor, action, target, before, after, bench_id)

    def record_desired(self, bench_id: str, version: int, actor: str) -> None:
        """Record a committed desired version from ``desired_history``: the top-level keys it changed against
        the version before (``poll.edit`` when only polls changed, else ``desired.patch``)."""
        h = desired_history.c
        with self.engine.begin() as conn:
            rows = dict(
                conn.execute(
                    select(h.version, h.config).where(h.bench_id == bench_id, h.version.in_([version - 1, version]))
                ).all()
            )
            after_doc = json.loads(rows[version]) if version in rows else {}
            # Version 0 is the default config every twin starts with (it has no history row).
            before_doc = json.loads(rows[version - 1]) if version - 1 in rows else _default_config()
            before, after = changed_keys(before_doc, after_doc)
            action = "poll.edit" if set(before) | set(after) == {"polls"} else "desired.patch"
            before["version"], after["version"] = version - 1, version
            append(conn, self._clock.now(), actor, action, f"bench:{bench_id}", before, after, bench_id)

    def entries(self, query: AuditQuery, municipalities: frozenset[str] | None) -> list[AuditEntry]:
        """Entries matching ``query``, newest first; ``municipalities`` (None: all) limits them to those
        benches, which also hides entries about no bench (users, tokens)."""
        q = select(audit_log).order_by(_a.id.desc()).limit(max(1, min(query.limit, MAX_ENTRIES)))
        if query.since is not None:
            q = q.where(_a.at >= query.since)
        if query.actor:
            q = q.where(_a.actor == query.actor)
        if query.bench_id:
            q = q.where(_a.bench_id == query.bench_id)
        if municipalities is not None:
            q = q.where(_a.municipality.in_(sorted(municipalities)))
        with self.engine.connect() as conn:
            return [
                AuditEntry(
                    r.id,
                    _aware(r.at),
                    r.actor,
                    r.action,
                    r.target,
                    r.bench_id,
                    r.municipality,
                    _load(r.before),
                    _load(r.after),
                )
                for r in conn.execute(q)
            ]


def entries_csv(entries: Iterable[AuditEntry]) -> str:
    """CSV of entries (header ``CSV_COLUMNS``; before/after as JSON text)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        doc = e.as_json()
        writer.writerow(
            [doc["at"], e.actor, e.action, e.target, e.bench_id or "", _dump(e.before) or "", _dump(e.after) or ""]
        )
    return out.getvalue()


def cli_actor() -> str:
    """Who runs a CLI command: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


def record_cli(engine: Engine, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Record a CLI action (users, tokens) on ``engine``; creates the audit table first if the database has
    only users yet (``user add`` before the first ``serve``; the migration adopts an existing table)."""
    metadata.create_all(engine, tables=[audit_log])
    AuditLog(engine, SystemClock()).record(cli_actor(), action, target, before, after)
