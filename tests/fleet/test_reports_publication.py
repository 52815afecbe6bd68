"""The published_polls table on PostgreSQL: its migration matches the declared table; publishing is logged once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ops.audit import AuditLog, AuditQuery
from fleet.reports.publication import Publications
from fleet.reports.tables import published_polls
from twins.clock import ManualClock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    found = make_engine(db_url)
    migrate.upgrade(found)
    yield found
    found.dispose()


def test_the_migration_creates_the_declared_table(engine: Engine) -> None:
    declared = MetaData()
    published_polls.to_metadata(declared)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), declared)
    # The comparison sees every other table as "to remove" (they are not declared here): keep only ours.
    ours = [d for d in diff if "published_polls" in repr(d)]
    assert ours == []
    assert inspect(engine).get_pk_constraint("published_polls")["constrained_columns"] == ["poll_id"]


def test_publish_and_unpublish_are_recorded_once(engine: Engine) -> None:
    clock = ManualClock(T0)
    audit = AuditLog(engine, clock)
    store = Publications(engine, clock, audit)
    assert store.all() == {}
    assert store.publish("treb-bridge", "tre") is True
    assert store.publish("treb-bridge", "ada") is False  # already public: the first publisher is kept
    found = store.get("treb-bridge")
    assert found is not None
    assert (found.published_by, found.published_at) == ("tre", T0)
    clock.advance(timedelta(minutes=1))
    assert store.unpublish("treb-bridge", "ada") is True
    assert store.unpublish("treb-bridge", "ada") is False
    assert store.get("treb-bridge") is None
    entries = audit.entries(AuditQuery(), None)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("ada", "poll.unpublish", "treb-bridge"),
        ("tre", "poll.publish", "treb-bridge"),
    ]
