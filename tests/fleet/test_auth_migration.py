"""Users and tokens from before session versions and token expiry keep working after the upgrade."""

from __future__ import annotations

from sqlalchemy import text

from fleet.auth.store import UserStore, _token_hash
from fleet.db import migrate
from fleet.db.engine import make_engine

_OLD_TABLES = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, password_hash VARCHAR(255) "
    "NOT NULL, role VARCHAR(16) NOT NULL, municipality VARCHAR(128), locale VARCHAR(16) NOT NULL, "
    "created_at TIMESTAMP NOT NULL)",
    "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), "
    "token_sha256 VARCHAR(64) NOT NULL UNIQUE, label VARCHAR(128) NOT NULL, created_at TIMESTAMP NOT NULL)",
]


def _old_database(url: str) -> str:
    """A wave-1 users table with one admin and one token (made by the wave-1 code's SQL)."""
    engine = make_engine(url)
    fresh = UserStore.from_url("sqlite://")  # only to hash a password and a token the same way
    fresh.add_user("ada", "a-long-password", "admin")
    with fresh.engine.connect() as conn:
        password_hash = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    token = "bft_old-token-from-wave-1"
    with engine.begin() as conn:
        for ddl in _OLD_TABLES:
            conn.execute(text(ddl))
        conn.execute(
            text("INSERT INTO users VALUES (1, 'ada', :h, 'admin', NULL, 'bs', '2025-01-01 00:00:00')"),
            {"h": password_hash},
        )
        conn.execute(
            text("INSERT INTO api_tokens VALUES (1, 1, :t, 'cron', '2025-01-01 00:00:00')"), {"t": _token_hash(token)}
        )
    engine.dispose()
    return token


def test_migration_gives_old_users_a_session_version(tmp_sqlite_url: str) -> None:
    token = _old_database(tmp_sqlite_url)
    engine = make_engine(tmp_sqlite_url)
    try:
        assert migrate.ensure_schema(engine, auto_upgrade=False) is not None
        store = UserStore(engine)
        session_id = store.session_id("ada")
        assert session_id
        assert store.user_for_session(session_id) is not None
        assert store.user_for_session("ada") is None  # a wave-1 cookie carried the name: no longer valid
        assert store.user_for_token(token) is not None  # tokens keep working (no expiry) until revoked
        assert [t.expires_at for t in store.list_tokens()] == [None]
    finally:
        engine.dispose()


def test_user_commands_work_before_migrate(tmp_sqlite_url: str) -> None:
    _old_database(tmp_sqlite_url)
    store = UserStore.from_url(tmp_sqlite_url)  # `benchfleet user passwd` before `benchfleet migrate`
    store.set_password("ada", "another long password")
    assert store.verify_password("ada", "another long password") is not None
    engine = make_engine(tmp_sqlite_url)
    try:
        assert migrate.ensure_schema(engine, auto_upgrade=False) is not None  # the migration copes
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
