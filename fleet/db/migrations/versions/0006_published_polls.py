"""Published polls: closed polls whose results are public (issue 13, part 4).

Revision ID: 0006_published_polls
Revises: 0003_reports
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_published_polls"
down_revision = "0003_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``published_polls``."""
    op.create_table(
        "published_polls",
        sa.Column("poll_id", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("poll_id", name="pk_published_polls"),
    )


def downgrade() -> None:
    """Drop ``published_polls``."""
    op.drop_table("published_polls")
