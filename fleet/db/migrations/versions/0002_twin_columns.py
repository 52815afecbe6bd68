"""Twins owned by SQL: one column group per section, counted votes per bench, desired history.

Revision ID: 0002_twin_columns
Revises: 0001_wave1
Create Date: 2026-12-01

Data: every wave-1 ``twins.doc`` JSON document is moved into the new columns (nothing in it is
dropped: telemetry, reported, connectivity, desired with its version, section versions, the vote
mismatch time); ``vote_counts`` is rebuilt from ``vote_events``; the desired version each twin holds
goes into ``desired_history`` so that number is never handed out again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_twin_columns"
down_revision = "0001_wave1"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(section: Any) -> str | None:
    # Compact like pydantic's model_dump_json, so an unchanged document compares equal as text.
    return json.dumps(section, separators=(",", ":"), ensure_ascii=False) if section is not None else None


def _meta(doc: dict[str, Any], name: str) -> tuple[int, datetime | None]:
    meta = doc.get(f"{name}_meta") or {}
    return int(meta.get("version") or 0), _when(meta.get("last_updated"))


def _columns(bench_id: str, doc: dict[str, Any], updated_at: datetime) -> dict[str, Any]:
    telemetry = doc.get("telemetry")
    reported = doc.get("reported")
    conn = doc.get("connectivity") or {}
    return {
        "bench_id": bench_id,
        "telemetry": _text(telemetry),
        "telemetry_ts": _when(telemetry["ts"]) if telemetry else None,
        "telemetry_seq": int(telemetry["seq"]) if telemetry else None,
        "telemetry_version": _meta(doc, "telemetry")[0],
        "reported": _text(reported),
        "reported_ts": _when(reported["ts"]) if reported else None,
        "reported_version": _meta(doc, "reported")[0],
        "online": conn.get("online"),
        "reason": conn.get("reason"),
        "status_ts": _when(conn.get("status_ts")),
        "last_seen": _when(conn.get("last_seen")),
        "connectivity_version": _meta(doc, "connectivity")[0],
        "connectivity_updated": _meta(doc, "connectivity")[1],
        "desired": _text(doc["desired"]),
        "desired_version": int(doc.get("desired_version") or 0),
        "desired_updated": _meta(doc, "desired")[1],
        "votes_mismatch_since": _when(doc.get("votes_mismatch_since")),
        "updated_at": updated_at,
    }


def upgrade() -> None:
    """Split the twin documents into columns; add vote_counts and desired_history."""
    bind = op.get_bind()
    old = sa.table("twins", sa.column("bench_id", sa.String), sa.column("doc", sa.Text), sa.column("updated_at", _tz()))
    rows = []
    for bench_id, doc, updated_at in bind.execute(sa.select(old.c.bench_id, old.c.doc, old.c.updated_at)):
        try:
            rows.append(_columns(bench_id, json.loads(doc), _when(updated_at) or datetime.now(UTC)))
        except (ValueError, KeyError, TypeError) as err:
            # Unreadable in wave 1 already (it started such a twin afresh); it gets a new row at start.
            log.warning("twin document of %r is unreadable and is not migrated: %s", bench_id, err)
    op.drop_table("twins")
    twins = op.create_table(
        "twins",
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("telemetry", sa.Text(), nullable=True),
        sa.Column("telemetry_ts", _tz(), nullable=True),
        sa.Column("telemetry_seq", sa.BigInteger(), nullable=True),
        sa.Column("telemetry_version", sa.Integer(), nullable=False),
        sa.Column("reported", sa.Text(), nullable=True),
        sa.Column("reported_ts", _tz(), nullable=True),
        sa.Column("reported_version", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status_ts", _tz(), nullable=True),
        sa.Column("last_seen", _tz(), nullable=True),
        sa.Column("connectivity_version", sa.Integer(), nullable=False),
        sa.Column("connectivity_updated", _tz(), nullable=True),
        sa.Column("desired", sa.Text(), nullable=False),
        sa.Column("desired_version", sa.Integer(), nullable=False),
        sa.Column("desired_updated", _tz(), nullable=True),
        sa.Column("votes_mismatch_since", _tz(), nullable=True),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("bench_id", name="pk_twins"),
    )
    if rows:
        op.bulk_insert(twins, rows)
    vote_counts = op.create_table(
        "vote_counts",
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("poll_id", sa.String(64), nullable=False),
        sa.Column("option", sa.String(32), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bench_id", "poll_id", "option", name="pk_vote_counts"),
    )
    events = sa.table("vote_events", sa.column("bench_id"), sa.column("poll_id"), sa.column("option"))
    counted = sa.select(events.c.bench_id, events.c.poll_id, events.c.option, sa.func.count()).group_by(
        events.c.bench_id, events.c.poll_id, events.c.option
    )
    op.execute(vote_counts.insert().from_select(["bench_id", "poll_id", "option", "votes"], counted))
    history = op.create_table(
        "desired_history",
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("bench_id", "version", name="pk_desired_history"),
    )
    held = [
        {
            "bench_id": r["bench_id"],
            "version": r["desired_version"],
            "config": r["desired"],
            "actor": "migration (wave 1)",
            "at": r["desired_updated"] or r["updated_at"],
        }
        for r in rows
        if r["desired_version"] > 0
    ]
    if held:
        op.bulk_insert(history, held)


def downgrade() -> None:
    """Not supported: the wave-1 document form cannot hold desired history; restore a backup instead."""
    raise NotImplementedError("downgrading below 0002_twin_columns is not supported; restore a backup")
