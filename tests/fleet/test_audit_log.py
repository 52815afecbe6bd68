"""The audit log: append-only in SQL, desired patches with before/after, filters, scoping, CSV and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, inspect, text, update
from sqlalchemy.exc import DBAPIError

from fleet.auth.store import UserStore
from fleet.cli import main
from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.db.store import SqlStore
from fleet.ops.audit import AuditLog, AuditQuery, audit_log, entries_csv
from fleet.registry import default_fleet
from fleet.state.desired import DesiredVersions
from fleet.state.twin_store import TwinStore
from twins.clock import ManualClock

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = make_engine(db_url)
    SqlStore(made).create_schema()
    TwinStore(made).register(default_fleet(), T0)
    yield made
    made.dispose()


def test_postgresql_refuses_to_update_or_delete_entries(engine: Engine) -> None:
    AuditLog(engine, ManualClock(T0)).record("ada", "user.add", "user:max", None, {"role": "maintenance"})
    for statement in (update(audit_log).values(actor="mallory"), delete(audit_log)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["ada"]


def test_a_desired_patch_is_recorded_with_the_keys_it_changed(engine: Engine) -> None:
    clock = ManualClock(T0)
    log = AuditLog(engine, clock)
    versions = DesiredVersions(TwinStore(engine))
    versions.patch("mostar-01", {"telemetry_interval_s": 30}, None, "max", T0)
    log.record_desired("mostar-01", 1, "max")
    twin = versions.patch("mostar-01", {"telemetry_interval_s": 120}, 1, "ada", T0)
    log.record_desired("mostar-01", twin.desired_version, "ada")
    newest, first = log.entries(AuditQuery(bench_id="mostar-01"), None)
    assert (newest.actor, newest.action, newest.target) == ("ada", "desired.patch", "bench:mostar-01")
    assert newest.before == {"telemetry_interval_s": 30, "version": 1}
    assert newest.after == {"telemetry_interval_s": 120, "version": 2}
    assert first.after == {"telemetry_interval_s": 30, "version": 1}
    assert first.before == {"telemetry_interval_s": 60, "version": 0}  # the default config every twin starts with
    assert first.municipality == "Mostar"


def test_filters_and_municipality_scope(engine: Engine) -> None:
    clock = ManualClock(T0)
    log = AuditLog(engine, clock)
    log.record("max", "command.send", "command:1", None, {"name": "ping"}, bench_id="mostar-01")
    clock.advance(timedelta(hours=1))
    log.record("ada", "command.send", "command:2", None, {"name": "reboot"}, bench_id="trebinje-01")
    log.record("ada", "token.create", "user:max", None, {"label": "ci"})
    everything = log.entries(AuditQuery(), None)
    assert [e.target for e in everything] == ["user:max", "command:2", "command:1"]
    assert [e.target for e in log.entries(AuditQuery(actor="ada"), None)] == ["user:max", "command:2"]
    assert [e.target for e in log.entries(AuditQuery(since=T0 + timedelta(minutes=30)), None)] == [
        "user:max",
        "command:2",
    ]
    assert [e.target for e in log.entries(AuditQuery(bench_id="mostar-01"), None)] == ["command:1"]
    # A municipality sees its benches' entries only: not another's, not users or tokens.
    assert [e.target for e in log.entries(AuditQuery(), frozenset({"Mostar"}))] == ["command:1"]
    assert log.entries(AuditQuery(bench_id="trebinje-01"), frozenset({"Mostar"})) == []
    assert len(log.entries(AuditQuery(limit=1), None)) == 1


def test_csv_holds_the_same_entries(engine: Engine) -> None:
    log = AuditLog(engine, ManualClock(T0))
    log.record("max", "desired.patch", "bench:mostar-01", {"a": 1}, {"a": 'x,"y"'}, bench_id="mostar-01")
    entries = log.entries(AuditQuery(), None)
    rows = list(csv.DictReader(io.StringIO(entries_csv(entries))))
    assert rows == [
        {
            "at": "2026-11-30T09:00:00.000Z",
            "actor": "max",
            "action": "desired.patch",
            "target": "bench:mostar-01",
            "bench_id": "mostar-01",
            "before": '{"a": 1}',
            "after": '{"a": "x,\\"y\\""}',
        }
    ]


def test_cli_user_and_token_changes_are_recorded(engine: Engine, db_url: str) -> None:
    env = {"BENCHFLEET_DB": db_url}
    runner = CliRunner()
    added = runner.invoke(main, ["user", "add", "crew1", "--role", "maintenance"], input="a-long-password\n", env=env)
    assert added.exit_code == 0, added.output
    created = runner.invoke(main, ["token", "create", "crew1", "--label", "ci"], env=env)
    assert created.exit_code == 0, created.output
    removed = runner.invoke(main, ["user", "remove", "crew1"], env=env)
    assert removed.exit_code == 0, removed.output
    entries = AuditLog(engine, ManualClock(T0)).entries(AuditQuery(), None)
    assert [(e.action, e.target) for e in entries] == [
        ("user.remove", "user:crew1"),
        ("token.create", "user:crew1"),
        ("user.add", "user:crew1"),
    ]
    assert entries[2].after == {"role": "maintenance", "municipality": None}
    assert all(e.actor.startswith("cli:") for e in entries)
    assert "a-long-password" not in str([(e.before, e.after) for e in entries])


def test_a_users_only_database_keeps_its_cli_entries_through_the_migration(tmp_sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"BENCHFLEET_DB": tmp_sqlite_url}
    assert (
        runner.invoke(main, ["user", "add", "ada1", "--role", "admin"], input="a-long-password\n", env=env).exit_code
        == 0
    )
    engine = make_engine(tmp_sqlite_url)
    try:
        assert "audit_log" in inspect(engine).get_table_names()
        migrate.ensure_schema(engine, auto_upgrade=False)  # only users: upgrades without asking
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert [e.action for e in AuditLog(engine, ManualClock(T0)).entries(AuditQuery(), None)] == ["user.add"]
        assert UserStore(engine).get_user("ada1") is not None
    finally:
        engine.dispose()
