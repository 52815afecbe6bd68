"""Migration 0003_alarms creates exactly the alarm tables the code declares, on SQLite and PostgreSQL,
and tamper events reach the alarm signals through ingestion (once per event id)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ops.alarm_tables import ALARM_TABLES
from fleet.ops.alarms import AlarmStore, SignalRecorder
from tests.services import PostgresDatabase
from tests.twins.samples import T0, event_doc
from twins.codec import decode


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield tmp_sqlite_url
        return
    database = PostgresDatabase()
    database.create()
    yield database.url
    database.drop()


def _table_of(change: object) -> str | None:
    # compare_metadata answers tuples (kind, object, ...) or lists of column changes; the object tells its table.
    item = change[0] if isinstance(change, list) else change
    if item[0] in ("add_column", "remove_column") or str(item[0]).startswith("modify_"):
        return str(item[2])  # (kind, schema, table name, column, ...)
    table = getattr(item[1], "table", item[1])
    return getattr(table, "name", None)


def test_migrated_alarm_tables_equal_the_declared_ones(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = migrate._config()
            config.attributes["connection"] = conn
            from alembic import command

            command.upgrade(config, "head")  # 0003_alarms, then 0007_alarm_text
        declared = MetaData()
        for t in ALARM_TABLES:
            t.to_metadata(declared)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), declared)
        ours = {t.name for t in ALARM_TABLES}
        assert ours <= set(inspect(engine).get_table_names())
        relevant = [d for d in diff if _table_of(d) in ours]
        assert relevant == []
    finally:
        engine.dispose()


def test_tamper_events_become_signals_once(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        store = AlarmStore(engine)
        record = SignalRecorder(store)
        doc = event_doc("tamper", {"sensor": "lid", "detail": "opened"}, bench_id="mostar-01", when=T0)
        event = decode("benches/mostar-01/events", json.dumps(doc).encode()).message
        record(event)  # type: ignore[arg-type]
        record(event)  # type: ignore[arg-type]  # redelivered
        boot = event_doc("boot", {"firmware": "1.2.3"}, bench_id="mostar-02", when=T0)
        record(decode("benches/mostar-02/events", json.dumps(boot).encode()).message)  # type: ignore[arg-type]
        assert store.last_signals("tamper", T0.replace(hour=0)) == {"mostar-01": T0}
    finally:
        engine.dispose()
