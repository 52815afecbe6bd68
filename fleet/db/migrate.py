"""Schema migrations (Alembic, scripts in fleet/db/migrations): upgrade, and tell an old schema apart."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from fleet.db import schema as _schema  # noqa: F401 - declares the fleet tables on metadata
from fleet.db.metadata import metadata
from fleet.ops import audit as _audit  # noqa: F401 - declares the audit_log table
from fleet.ops import commands as _commands  # noqa: F401 - declares the commands table
from fleet.ops import releases as _releases  # noqa: F401 - declares the firmware_releases table
from fleet.ops import rollouts as _rollouts  # noqa: F401 - declares the rollout tables


class SchemaOutdated(RuntimeError):
    """The database holds an older schema; ``benchfleet migrate`` upgrades it."""


@dataclass(frozen=True, slots=True)
class Upgrade:
    """The revision a database was at and the one it is at now."""

    before: str | None
    after: str


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "fleet.db:migrations")
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database Alembic never touched."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _holds_twins(engine: Engine) -> bool:
    # Nothing to migrate without twins: an empty database, or one where only `benchfleet user add` ran
    # (UserStore creates its own tables) upgrades without asking.
    return "twins" in inspect(engine).get_table_names()


def upgrade(engine: Engine) -> Upgrade:
    """Upgrade to the newest revision (a wave-1 database without revision is adopted as revision 1)."""
    before = current_revision(engine)
    with engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    # Tables declared by modules that have no migration yet: created so such a module still works;
    # tests/fleet/test_migrations.py keeps the migrated schema equal to the declared one.
    metadata.create_all(engine)
    return Upgrade(before, head_revision())


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> Upgrade | None:
    """Make sure the schema is current: upgrade a database without twins yet (or any, with ``auto_upgrade``);
    raise SchemaOutdated naming ``benchfleet migrate`` for a database with an older schema."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        metadata.create_all(engine)
        return None
    if auto_upgrade or (current is None and not _holds_twins(engine)):
        return upgrade(engine)
    raise SchemaOutdated(
        f"BENCHFLEET_DB: the database schema is at revision {current or 'wave-1 (none)'}, this version needs "
        f"{head}: run `benchfleet migrate` first"
    )
