"""Rollouts in waves: ``rollouts`` and ``rollout_benches``.

Revision ID: 0005_rollouts
Revises: 0004_ops
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rollouts"
down_revision = "0004_ops"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create both tables."""
    op.create_table(
        "rollouts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("patch", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("max_failure_pct", sa.Float(), nullable=False),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("waves", sa.Integer(), nullable=False),
        sa.Column("accepted_wave", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rollouts"),
    )
    op.create_index("ix_rollouts_status", "rollouts", ["status"])
    op.create_table(
        "rollout_benches",
        sa.Column("rollout_id", sa.String(36), nullable=False),
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("desired_version", sa.Integer(), nullable=True),
        sa.Column("previous", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", _tz(), nullable=True),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("rollout_id", "bench_id", name="pk_rollout_benches"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("rollout_benches")
    op.drop_table("rollouts")
