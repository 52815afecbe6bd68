"""Session versions of users and expiry of API tokens (issue 8).

Revision ID: 0005_auth_sessions
Revises: 0004_ops
Create Date: 2026-12-01

Numbered 0005 because other wave-2 branches add 0003_alarms and 0004_ops on 0002: when they are merged,
``down_revision`` here becomes the last of them (one chain, one head).

``users.session_id`` is the random value a session cookie carries instead of the user name (a new one
ends every session of the user); ``api_tokens.expires_at`` ends a token. Existing users get a session id
(their old cookies, which carried the user name, stop working: everyone logs in once more); existing
tokens keep working until revoked. ``UserStore`` may already have added the columns to an older database
(`benchfleet user ...` before `benchfleet migrate`), so each step checks first.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005_auth_sessions"
down_revision = "0004_ops"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    """Add the columns (and the session index) where missing; give every user a session id."""
    bind = op.get_bind()
    if "session_id" not in _columns("users"):
        op.add_column("users", sa.Column("session_id", sa.String(64), nullable=True))
    if "ix_users_session_id" not in {i["name"] for i in sa.inspect(bind).get_indexes("users")}:
        op.create_index("ix_users_session_id", "users", ["session_id"])
    if "expires_at" not in _columns("api_tokens"):
        op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_id", sa.String))
    for (uid,) in bind.execute(sa.select(users.c.id).where(users.c.session_id.is_(None))).fetchall():
        bind.execute(sa.update(users).where(users.c.id == uid).values(session_id=secrets.token_urlsafe(32)))


def downgrade() -> None:
    """Drop the columns again."""
    op.drop_index("ix_users_session_id", table_name="users")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("users", "session_id")
