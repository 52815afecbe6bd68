"""UserStore on SQLite and PostgreSQL: users, roles, password checks and hashed tokens."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import create_engine, select

from fleet.auth.store import UserError, UserStore, api_tokens_table, users_table


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_sqlite_url: str) -> UserStore:
    if request.param == "sqlite":
        return UserStore.from_url(tmp_sqlite_url)
    pg_url = request.getfixturevalue("pg_url")
    s = UserStore(create_engine(pg_url))
    for user in s.list_users():  # the PostgreSQL database is shared by the session
        s.remove_user(user.name)
    return s


def test_add_list_remove(store: UserStore) -> None:
    store.add_user("ana", "correct horse", "admin")
    store.add_user("mo", "correct horse", "municipality", municipality="Mostar", locale="hr")
    assert [(u.name, u.role, u.municipality, u.locale) for u in store.list_users()] == [
        ("ana", "admin", None, "bs"),
        ("mo", "municipality", "Mostar", "hr"),
    ]
    assert store.remove_user("ana") is True
    assert store.remove_user("ana") is False
    assert [u.name for u in store.list_users()] == ["mo"]


def test_password_is_hashed_and_verified(store: UserStore) -> None:
    store.add_user("ana", "correct horse", "maintenance")
    with store.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert "correct horse" not in stored
    assert stored.startswith("scrypt:")
    user = store.verify_password("ana", "correct horse")
    assert user is not None
    assert user.role == "maintenance"
    assert store.verify_password("ana", "wrong horse!") is None
    assert store.verify_password("nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("name", "role", "municipality", "password", "fragment"),
    [
        ("x", "admin", None, "long enough", "invalid user name"),
        ("ana", "root", None, "long enough", "invalid role"),
        ("ana", "municipality", None, "long enough", "needs --municipality"),
        ("ana", "admin", "Mostar", "long enough", "drop --municipality"),
        ("ana", "admin", None, "short", "password too short"),
    ],
)
def test_bad_users_are_refused_with_a_clear_message(
    store: UserStore, name: str, role: str, municipality: str | None, password: str, fragment: str
) -> None:
    with pytest.raises(UserError, match=fragment):
        store.add_user(name, password, role, municipality=municipality)


def test_duplicate_user_is_refused(store: UserStore) -> None:
    store.add_user("ana", "correct horse", "admin")
    with pytest.raises(UserError, match="already exists"):
        store.add_user("ana", "other horse", "admin")


def test_tokens_are_stored_hashed_and_resolve_to_their_user(store: UserStore) -> None:
    store.add_user("mo", "correct horse", "municipality", municipality="Mostar")
    token = store.create_token("mo", label="script")
    with store.engine.connect() as conn:
        stored = conn.execute(select(api_tokens_table.c.token_sha256)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    user = store.user_for_token(token)
    assert user is not None
    assert user.name == "mo"
    assert user.scope().allows("Mostar")
    assert not user.scope().allows("Trebinje")
    assert store.user_for_token(token + "x") is None
    store.remove_user("mo")
    assert store.user_for_token(token) is None


def test_token_for_unknown_user_is_refused(store: UserStore) -> None:
    with pytest.raises(UserError, match="no user"):
        store.create_token(f"ghost-{uuid.uuid4().hex[:6]}")


def test_locale_and_permissions(store: UserStore) -> None:
    store.add_user("ana", "correct horse", "maintenance")
    store.set_locale("ana", "sr_Cyrl")
    user = store.get_user("ana")
    assert user is not None
    assert user.locale == "sr_Cyrl"
    assert user.can("configure")
    assert not user.can("edit_polls")
    with pytest.raises(UserError, match="invalid locale"):
        store.set_locale("ana", "de")


def test_session_versions_and_token_lifecycle(store: UserStore) -> None:
    from datetime import UTC, datetime, timedelta

    from twins.clock import ManualClock

    store.add_user("ana", "correct horse", "admin")
    first = store.session_id("ana")
    assert first is not None
    assert store.user_for_session(first) is not None
    assert store.user_for_session("ana") is None  # the name is not a session
    store.set_password("ana", "another horse")
    second = store.session_id("ana")
    assert second != first
    assert store.user_for_session(first) is None
    assert store.end_sessions("ana") is True
    assert store.live_sessions({first, second, store.session_id("ana") or ""}) == {store.session_id("ana")}
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    timed = UserStore(store.engine, clock=clock)
    token = timed.create_token("ana", "cron", days=1)
    (info,) = timed.list_tokens("ana")
    assert info.expires_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert timed.user_for_token(token) is not None
    assert timed.live_tokens({info.id}) == {info.id}
    clock.advance(timedelta(days=1))
    assert timed.user_for_token(token) is None
    assert timed.token_id(token) is None
    assert timed.live_tokens({info.id}) == set()
    assert info.expired(clock.now())
    assert timed.revoke_token(info.id) is True
    assert timed.list_tokens() == []
