"""Dashboard users and API tokens in the fleet database (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
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
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from fleet.db.engine import make_engine
from fleet.db.metadata import metadata
from fleet.service_api import EVERYTHING, Scope

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
)

api_tokens_table = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


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


#: What each role may do; municipality users are further limited to their own benches by ``scope()``.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "configure", "alerts", "edit_polls", "manage_users"}),
    "maintenance": frozenset({"view", "configure", "alerts"}),
    "municipality": frozenset({"view", "edit_polls"}),
}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _row_user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(name=m["name"], role=m["role"], municipality=m["municipality"], locale=m["locale"])


class UserStore:
    """Users (scrypt password hashes) and API tokens (stored as SHA-256 only)."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine`` and create the ``users`` and ``api_tokens`` tables if missing."""
        self.engine = engine
        metadata.create_all(engine, tables=[users_table, api_tokens_table])

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
            "created_at": datetime.now(UTC),
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

    def create_token(self, name: str, label: str = "") -> str:
        """A new random API token for ``name`` (shown once; only its SHA-256 is stored)."""
        token = "bft_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            uid = conn.execute(select(users_table.c.id).where(users_table.c.name == name)).scalar()
            if uid is None:
                raise UserError(f"no user {name!r}: create it with benchfleet user add")
            conn.execute(
                insert(api_tokens_table).values(
                    user_id=uid, token_sha256=_token_hash(token), label=label, created_at=datetime.now(UTC)
                )
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        """The user an API token belongs to, or None."""
        query = (
            select(users_table)
            .join(api_tokens_table, api_tokens_table.c.user_id == users_table.c.id)
            .where(api_tokens_table.c.token_sha256 == _token_hash(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _row_user(row) if row else None
