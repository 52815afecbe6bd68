"""Dashboard users and API tokens in the fleet database (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from fleet.db.engine import make_engine
from fleet.db.metadata import metadata
from fleet.service_api import EVERYTHING, Scope
from twins.clock import Clock, SystemClock

Role = Literal["admin", "maintenance", "municipality"]
ROLES: tuple[str, ...] = get_args(Role)
LOCALES: tuple[str, ...] = ("bs", "hr", "sr_Latn", "sr_Cyrl", "en")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
# scrypt is werkzeug's strongest built-in; no extra dependency, memory-hard like argon2.
_HASH_METHOD = "scrypt"
# A hash of a random password: checking unknown users against it costs the same time as a real check.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method=_HASH_METHOD)

users_table = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("municipality", String(128), nullable=True),
    Column("locale", String(16), nullable=False, default="bs"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The session version: a random value every session cookie carries instead of the user name. A new
    # password or "log out everywhere" replaces it, so every cookie issued before stops working; a forged
    # cookie (even signed with a leaked key) needs it, and a guessed user name alone tells nothing.
    Column("session_id", String(64), nullable=True, index=True),
)

api_tokens_table = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

#: Columns added after the first release: (table, column, SQL type) added to older databases at start.
_ADDED_COLUMNS: tuple[tuple[Table, str, str], ...] = (
    (users_table, "session_id", "VARCHAR(64)"),
    (api_tokens_table, "expires_at", "TIMESTAMP WITH TIME ZONE"),
)
#: How long a new API token lives unless told otherwise.
DEFAULT_TOKEN_DAYS = 90


class UserError(ValueError):
    """A user could not be created or changed; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user: name, role, the municipality of a municipal user and the preferred language."""

    name: str
    role: Role
    municipality: str | None
    locale: str

    def scope(self) -> Scope:
        """What this user may see: everything, or only benches of their municipality."""
        if self.role == "municipality":
            return Scope(frozenset({self.municipality or ""}))
        return EVERYTHING

    def can(self, permission: str) -> bool:
        """Tell whether the role grants ``permission`` (see PERMISSIONS)."""
        return permission in PERMISSIONS[self.role]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as listed (never the token itself, which is stored only as a hash)."""

    id: int
    user: str
    label: str
    created_at: datetime
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        """Tell whether the token no longer works at ``now``."""
        return self.expires_at is not None and _aware(self.expires_at) <= now


#: What each role may do; municipality users are further limited to their own benches by ``scope()``.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "configure", "alerts", "edit_polls", "manage_users", "health"}),
    "maintenance": frozenset({"view", "configure", "alerts", "health"}),
    "municipality": frozenset({"view", "edit_polls"}),
}


def _aware(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; they were stored as UTC.
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _new_session_id() -> str:
    return secrets.token_urlsafe(32)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _row_user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(name=m["name"], role=m["role"], municipality=m["municipality"], locale=m["locale"])


class UserStore:
    """Users (scrypt password hashes) and API tokens (stored as SHA-256 only)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        """Use ``engine`` and create the ``users`` and ``api_tokens`` tables if missing (or add new columns)."""
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        metadata.create_all(engine, tables=[users_table, api_tokens_table])
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        with self.engine.begin() as conn:
            inspector = inspect(conn)
            # `benchfleet user ...` may run on a database `benchfleet migrate` has not upgraded yet; the
            # migration (fleet/db/migrations/versions/0005_auth_sessions.py) checks before adding again.
            for table, column, sql_type in _ADDED_COLUMNS:
                if column not in {c["name"] for c in inspector.get_columns(table.name)}:
                    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column} {sql_type}"))
            # Users from before session versions get one now (their old cookies, keyed by name, stop working).
            missing = conn.execute(select(users_table.c.id).where(users_table.c.session_id.is_(None))).scalars().all()
            for uid in missing:
                conn.execute(update(users_table).where(users_table.c.id == uid).values(session_id=_new_session_id()))

    @classmethod
    def from_url(cls, url: str) -> UserStore:
        """A store on the database at an SQLAlchemy URL (the same engine setup as the fleet's tables)."""
        return cls(make_engine(url))

    def add_user(
        self, name: str, password: str, role: str, municipality: str | None = None, locale: str = "bs"
    ) -> User:
        """Create a user; raise UserError for a bad name, role, municipality, password, locale or a duplicate."""
        if not _NAME_RE.fullmatch(name):
            raise UserError(f"invalid user name {name!r}: 2-64 letters, digits, '_', '.', '@' or '-'")
        if role not in ROLES:
            raise UserError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
        if role == "municipality" and not (municipality or "").strip():
            raise UserError("role municipality needs --municipality NAME")
        if role != "municipality" and municipality:
            raise UserError(f"role {role} sees every bench: drop --municipality")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
        if locale not in LOCALES:
            raise UserError(f"invalid locale {locale!r}: use one of {', '.join(LOCALES)}")
        values = {
            "name": name,
            "password_hash": generate_password_hash(password, method=_HASH_METHOD),
            "role": role,
            "municipality": municipality.strip() if municipality else None,
            "locale": locale,
            "created_at": self.clock.now(),
            "session_id": _new_session_id(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users_table).values(**values))
        except IntegrityError as err:
            raise UserError(f"user {name!r} already exists") from err
        return User(name, role, values["municipality"], locale)  # type: ignore[arg-type]

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users_table).order_by(users_table.c.name)).fetchall()
        return [_row_user(r) for r in rows]

    def get_user(self, name: str) -> User | None:
        """One user by name, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.name == name)).first()
        return _row_user(row) if row else None

    def remove_user(self, name: str) -> bool:
        """Delete a user and their tokens; False if there was no such user."""
        with self.engine.begin() as conn:
            uid = conn.execute(select(users_table.c.id).where(users_table.c.name == name)).scalar()
            if uid is None:
                return False
            # Explicit: SQLite only honours ON DELETE CASCADE with a pragma.
            conn.execute(delete(api_tokens_table).where(api_tokens_table.c.user_id == uid))
            conn.execute(delete(users_table).where(users_table.c.id == uid))
        return True

    def set_password(self, name: str, password: str) -> None:
        """Change a password; every session of the user ends (raise UserError for no such user or a short one)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
        values = {
            "password_hash": generate_password_hash(password, method=_HASH_METHOD),
            "session_id": _new_session_id(),
        }
        with self.engine.begin() as conn:
            if conn.execute(update(users_table).where(users_table.c.name == name).values(**values)).rowcount == 0:
                raise UserError(f"no user {name!r}")

    def end_sessions(self, name: str) -> bool:
        """Log a user out everywhere: every cookie issued so far stops working. False if there is no such user."""
        with self.engine.begin() as conn:
            query = update(users_table).where(users_table.c.name == name).values(session_id=_new_session_id())
            return bool(conn.execute(query).rowcount)

    def session_id(self, name: str) -> str | None:
        """The current session version of a user (what a session cookie carries), or None."""
        with self.engine.connect() as conn:
            found = conn.execute(select(users_table.c.session_id).where(users_table.c.name == name)).scalar()
        return str(found) if found else None

    def user_for_session(self, session_id: str) -> User | None:
        """The user whose current session version is ``session_id``, or None (removed, logged out, forged)."""
        if not session_id:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.session_id == session_id)).first()
        return _row_user(row) if row else None

    def live_sessions(self, session_ids: set[str]) -> set[str]:
        """Which of ``session_ids`` are still current (for dropping live connections of ended sessions)."""
        if not session_ids:
            return set()
        with self.engine.connect() as conn:
            query = select(users_table.c.session_id).where(users_table.c.session_id.in_(session_ids))
            return {str(s) for s in conn.execute(query).scalars()}

    def verify_password(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None (same cost for unknown names)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.name == name)).first()
        if row is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        return _row_user(row) if check_password_hash(row._mapping["password_hash"], password) else None

    def set_locale(self, name: str, locale: str) -> None:
        """Remember a user's language; raise UserError for an unknown locale."""
        if locale not in LOCALES:
            raise UserError(f"invalid locale {locale!r}: use one of {', '.join(LOCALES)}")
        with self.engine.begin() as conn:
            conn.execute(update(users_table).where(users_table.c.name == name).values(locale=locale))

    def create_token(self, name: str, label: str = "", days: int | None = DEFAULT_TOKEN_DAYS) -> str:
        """A new random API token for ``name``, valid ``days`` (None: until revoked); shown once, stored hashed."""
        if days is not None and days <= 0:
            raise UserError(f"token lifetime {days} days: give a positive number of days")
        token = "bft_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.engine.begin() as conn:
            uid = conn.execute(select(users_table.c.id).where(users_table.c.name == name)).scalar()
            if uid is None:
                raise UserError(f"no user {name!r}: create it with benchfleet user add")
            conn.execute(
                insert(api_tokens_table).values(
                    user_id=uid,
                    token_sha256=_token_hash(token),
                    label=label,
                    created_at=now,
                    expires_at=now + timedelta(days=days) if days is not None else None,
                )
            )
        return token

    def list_tokens(self, name: str | None = None) -> list[TokenInfo]:
        """Every API token (or those of one user), oldest first."""
        query = select(api_tokens_table, users_table.c.name).join(
            users_table, api_tokens_table.c.user_id == users_table.c.id
        )
        if name is not None:
            query = query.where(users_table.c.name == name)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_tokens_table.c.id)).fetchall()
        return [
            TokenInfo(
                id=r.id,
                user=r.name,
                label=r.label,
                created_at=_aware(r.created_at),
                expires_at=_aware(r.expires_at) if r.expires_at else None,
            )
            for r in rows
        ]

    def revoke_token(self, token_id: int) -> bool:
        """Delete an API token by id; False if there was none."""
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(api_tokens_table).where(api_tokens_table.c.id == token_id)).rowcount)

    def token_id(self, token: str) -> int | None:
        """The id of a working (known, unexpired) token, or None."""
        query = select(api_tokens_table.c.id, api_tokens_table.c.expires_at).where(
            api_tokens_table.c.token_sha256 == _token_hash(token)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or (row.expires_at is not None and _aware(row.expires_at) <= self.clock.now()):
            return None
        return int(row.id)

    def live_tokens(self, token_ids: set[int]) -> set[int]:
        """Which of ``token_ids`` still work (not revoked, not expired, user not removed)."""
        if not token_ids:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens_table.c.id, api_tokens_table.c.expires_at).where(api_tokens_table.c.id.in_(token_ids))
            ).fetchall()
        now = self.clock.now()
        return {int(r.id) for r in rows if r.expires_at is None or _aware(r.expires_at) > now}

    def user_for_token(self, token: str) -> User | None:
        """The user a working API token belongs to, or None (unknown, revoked or expired)."""
        query = (
            select(users_table, api_tokens_table.c.expires_at)
            .join(api_tokens_table, api_tokens_table.c.user_id == users_table.c.id)
            .where(api_tokens_table.c.token_sha256 == _token_hash(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        expires = row._mapping["expires_at"]
        if expires is not None and _aware(expires) <= self.clock.now():
            return None
        return _row_user(row)
