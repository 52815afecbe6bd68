"""Alarm messages as a code with parameters (issue 11, item 6): the dashboards translate them.

Revision ID: 0007_alarm_text
Revises: 0006_vote_review
Create Date: 2026-12-02

``alarms.text``: the message as JSON ``{"code", "params"}`` (``twins.reasons.Reason``); NULL for alarms
raised before, which keep showing their English ``message``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_alarm_text"
down_revision = "0006_vote_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column."""
    op.add_column("alarms", sa.Column("text", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop it again."""
    op.drop_column("alarms", "text")
