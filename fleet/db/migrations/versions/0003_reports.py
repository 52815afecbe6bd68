"""Reports: recipients per municipality, sent monthly reports (once each), archive of generated files.

Revision ID: 0003_reports
Revises: 0003_alarms
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reports"
down_revision = "0003_alarms"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three report tables."""
    op.create_table(
        "report_recipients",
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("added_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "email", name="pk_report_recipients"),
    )
    op.create_table(
        "report_deliveries",
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("sent_at", _tz(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("archive_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("municipality", "period", name="pk_report_deliveries"),
    )
    op.create_table(
        "report_archive",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_archive"),
    )


def downgrade() -> None:
    """Drop the report tables."""
    for name in ("report_archive", "report_deliveries", "report_recipients"):
        op.drop_table(name)
