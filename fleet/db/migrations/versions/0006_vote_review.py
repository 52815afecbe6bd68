"""Vote review and poll ownership (issue 8, items 3 and 4).

Revision ID: 0006_vote_review
Revises: 0006_published_polls
Create Date: 2026-12-01

``vote_events.status``: counted, suspect (held: implausible rate, awaiting review) or discarded (a review
refused it); existing rows were counted. ``twins.votes_suspect``: how many of a bench's votes are held.
``polls``: the owner of each poll id (a municipality, or NULL for the whole fleet). Poll ids already
configured are adopted: an id carried by benches of one municipality belongs to it, any other to the fleet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_vote_review"
down_revision = "0006_published_polls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns, the rate index and the ``polls`` table, and adopt the poll ids in use."""
    op.add_column("vote_events", sa.Column("status", sa.String(16), nullable=False, server_default="counted"))
    op.add_column("twins", sa.Column("votes_suspect", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_vote_events_rate", "vote_events", ["bench_id", "poll_id", "received_at"])
    polls = op.create_table(
        "polls",
        sa.Column("poll_id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT b.municipality, t.desired FROM twins t JOIN benches b ON b.bench_id = t.bench_id")
    )
    users: dict[str, set[str]] = {}
    for municipality, desired in rows:
        for poll in json.loads(desired).get("polls", []):
            users.setdefault(poll["id"], set()).add(municipality)
    now = datetime.now(UTC)
    adopted = [
        {
            "poll_id": pid,
            "owner": next(iter(towns)) if len(towns) == 1 else None,
            "created_by": "migration",
            "created_at": now,
        }
        for pid, towns in sorted(users.items())
    ]
    if adopted:
        op.bulk_insert(polls, adopted)


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("polls")
    op.drop_index("ix_vote_events_rate", table_name="vote_events")
    op.drop_column("twins", "votes_suspect")
    op.drop_column("vote_events", "status")
