"""Wave-1 schema: registry, twins as one JSON document, vote events, users and API tokens.

Revision ID: 0001_wave1
Revises:
Create Date: 2026-12-01

Databases written by wave 1 have these tables but no alembic_version: every table is created only
when missing, so upgrading such a database adopts its tables as revision 1 and goes on from there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_wave1"
down_revision = None
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the wave-1 tables that do not exist yet."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "benches" not in existing:
        op.create_table(
            "benches",
            sa.Column("bench_id", sa.String(64), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("municipality", sa.String(100), nullable=False),
            sa.Column("entity", sa.String(20), nullable=False),
            sa.Column("canton", sa.String(100), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.Column("altitude_m", sa.Float(), nullable=False),
            sa.Column("installed", sa.String(20), nullable=False),
            sa.Column("created_at", _tz(), nullable=False),
            sa.Column("updated_at", _tz(), nullable=False),
            sa.PrimaryKeyConstraint("bench_id", name="pk_benches"),
        )
        op.create_index("ix_benches_municipality", "benches", ["municipality"])
    if "twins" not in existing:
        op.create_table(
            "twins",
            sa.Column("bench_id", sa.String(64), nullable=False),
            sa.Column("doc", sa.Text(), nullable=False),
            sa.Column("updated_at", _tz(), nullable=False),
            sa.PrimaryKeyConstraint("bench_id", name="pk_twins"),
        )
    if "vote_events" not in existing:
        op.create_table(
            "vote_events",
            sa.Column("event_id", sa.String(36), nullable=False),
            sa.Column("bench_id", sa.String(64), nullable=False),
            sa.Column("municipality", sa.String(100), nullable=False),
            sa.Column("poll_id", sa.String(64), nullable=False),
            sa.Column("option", sa.String(32), nullable=False),
            sa.Column("ts", _tz(), nullable=False),
            sa.Column("received_at", _tz(), nullable=False),
            sa.PrimaryKeyConstraint("event_id", name="pk_vote_events"),
        )
        op.create_index("ix_vote_events_poll", "vote_events", ["poll_id", "bench_id", "option"])
    if "users" not in existing:
        op.create_table(
            "users",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.String(64), nullable=False),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("municipality", sa.String(128), nullable=True),
            sa.Column("locale", sa.String(16), nullable=False),
            sa.Column("created_at", _tz(), nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_users"),
            sa.UniqueConstraint("name", name="uq_users_name"),
        )
    if "api_tokens" not in existing:
        op.create_table(
            "api_tokens",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("token_sha256", sa.String(64), nullable=False),
            sa.Column("label", sa.String(128), nullable=False),
            sa.Column("created_at", _tz(), nullable=False),
            sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
            sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
        )


def downgrade() -> None:
    """Drop every wave-1 table."""
    for table in ("api_tokens", "users", "vote_events", "twins", "benches"):
        op.drop_table(table)
