"""Operations: tracked commands and the append-only audit log.

Revision ID: 0004_ops
Revises: 0002_twin_columns
Create Date: 2026-12-01

Each table is created only when missing: ``benchfleet user add`` on a database that was never served
creates ``audit_log`` itself (fleet.ops.audit.record_cli), and this revision adopts it. On PostgreSQL a
trigger refuses UPDATE and DELETE on ``audit_log``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_ops"
down_revision = "0002_twin_columns"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    """Create ``commands`` and ``audit_log`` (if missing) and, on PostgreSQL, the append-only trigger."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    if "commands" not in existing:
        op.create_table(
            "commands",
            sa.Column("id", sa.String(36), nullable=False),
            sa.Column("bench_id", sa.String(64), nullable=False),
            sa.Column("name", sa.String(32), nullable=False),
            sa.Column("args", sa.Text(), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("result", sa.Text(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("actor", sa.String(64), nullable=False),
            sa.Column("sent_at", _tz(), nullable=False),
            sa.Column("deadline", _tz(), nullable=False),
            sa.Column("finished_at", _tz(), nullable=True),
            sa.PrimaryKeyConstraint("id", name="pk_commands"),
        )
        op.create_index("ix_commands_bench", "commands", ["bench_id", "sent_at"])
        op.create_index("ix_commands_status_deadline", "commands", ["status", "deadline"])
    if "audit_log" not in existing:
        op.create_table(
            "audit_log",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
            sa.Column("at", _tz(), nullable=False),
            sa.Column("actor", sa.String(64), nullable=False),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("target", sa.String(200), nullable=False),
            sa.Column("bench_id", sa.String(64), nullable=True),
            sa.Column("municipality", sa.String(100), nullable=True),
            sa.Column("before", sa.Text(), nullable=True),
            sa.Column("after", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        )
        op.create_index("ix_audit_log_at", "audit_log", ["at"])
        op.create_index("ix_audit_log_bench", "audit_log", ["bench_id", "at"])
    if bind.dialect.name == "postgresql":
        op.execute(_APPEND_ONLY)
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    """Drop both tables (the audit log with them: take a backup first)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("commands")
