"""Rollouts in waves: ``rollouts``, ``rollout_benches`` and ``firmware_releases``.

Revision ID: 0005_rollouts
Revises: 0005_auth_sessions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rollouts"
down_revision = "0005_auth_sessions"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
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
    op.create_table(
        "rollout_benches",
        sa.Column("rollout_id", sa.String(36), nullable=False),
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("desired_version", sa.Integer(), nullable=True),
        sa.Column("previous", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("command_id", sa.String(36), nullable=True),
        sa.Column("ota_stage", sa.String(16), nullable=True),
        sa.Column("sent_at", _tz(), nullable=True),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("rollout_id", "bench_id", name="pk_rollout_benches"),
    )

    op.create_table(
        "firmware_releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_firmware_releases"),
        sa.UniqueConstraint("version", "model", name="uq_firmware_releases_version_model"),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("firmware_releases")
    op.drop_table("rollout_benches")
    op.drop_table("rollouts")
