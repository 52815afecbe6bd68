"""Alarms: alarms with their history, threshold overrides, notification recipients and outbox, signals.

Revision ID: 0003_alarms
Revises: 0005_rollouts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alarms"
down_revision = "0005_rollouts"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the alarm tables (new: no data to move)."""
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("open_key", sa.String(160), nullable=True),
        sa.Column("condition_since", _tz(), nullable=False),
        sa.Column("raised_at", _tz(), nullable=True),
        sa.Column("clearing_since", _tz(), nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", _tz(), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("escalated_at", _tz(), nullable=True),
        sa.Column("cleared_at", _tz(), nullable=True),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        sa.UniqueConstraint("open_key", name="uq_alarms_open_key"),
    )
    op.create_index("ix_alarms_bench_state", "alarms", ["bench_id", "state"])
    op.create_table(
        "alarm_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_history"),
    )
    op.create_index("ix_alarm_history_alarm_id", "alarm_history", ["alarm_id"])
    op.create_table(
        "alarm_thresholds",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "target", "name", name="pk_alarm_thresholds"),
    )
    op.create_table(
        "alarm_recipients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_recipients"),
    )
    op.create_table(
        "alarm_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("sent_at", _tz(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_notifications"),
        sa.UniqueConstraint("history_id", "recipient_id", name="uq_alarm_notifications_transition"),
    )
    op.create_index("ix_alarm_notifications_status", "alarm_notifications", ["status"])
    op.create_table(
        "alarm_signals",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("bench_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_alarm_signals"),
    )
    op.create_index("ix_alarm_signals_bench_kind", "alarm_signals", ["bench_id", "kind"])


def downgrade() -> None:
    """Drop the alarm tables (their history goes with them: back up first)."""
    for name in (
        "alarm_signals",
        "alarm_notifications",
        "alarm_recipients",
        "alarm_thresholds",
        "alarm_history",
        "alarms",
    ):
        op.drop_table(name)
