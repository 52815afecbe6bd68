"""Backups of the SQL database: back up, lose the database, restore with the documented commands, same data.

Real PostgreSQL (pg_dump / pg_restore) and real SQLite files; the commands are the ones of docs/backup.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, select

from fleet.auth.store import UserStore
from fleet.backup import BackupError, BackupJob, backup_database, list_backups, prune, restore_database
from fleet.cli import main
from fleet.db.engine import make_engine
from fleet.db.store import SqlStore, VoteRow
from fleet.registry import default_fleet
from fleet.state.twin_store import TwinStore
from fleet.state.votes import insert_votes
from tests.services import PostgresDatabase
from tests.twins.samples import vote_doc
from twins.clock import ManualClock
from twins.messages import VoteEvent

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def fill(url: str) -> None:
    """Twins of the 12 default benches, three votes, two users and a token."""
    engine = make_engine(url)
    store = SqlStore(engine)
    store.create_schema()
    TwinStore(engine).register(default_fleet(), T0)
    votes = [
        VoteEvent.model_validate_json(json.dumps(vote_doc(bench_id=b, option=o)))
        for b, o in (("mostar-01", "yes"), ("mostar-01", "no"), ("trebinje-01", "yes"))
    ]
    with engine.begin() as conn:  # as an ingest batch counts them
        insert_votes(conn, [VoteRow(v, "Mostar") for v in votes], T0)
    users = UserStore(engine)
    users.add_user("crew-lead", "correct horse battery", "maintenance")
    users.add_user("mostar-office", "another long secret", "municipality", municipality="Mostar")
    users.create_token("crew-lead", "scripts")
    engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, by table name."""
    engine: Engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for name, table in meta.tables.items()
            }
    finally:
        engine.dispose()


def assert_filled(found: dict[str, list[tuple[Any, ...]]]) -> None:
    """The snapshot holds what ``fill`` wrote (so an empty database cannot pass for a restored one)."""
    assert len(found["benches"]) == 12
    assert len(found["twins"]) == 12
    assert len(found["vote_events"]) == 3
    assert len(found["users"]) == 2
    assert len(found["api_tokens"]) == 1


@pytest.fixture
def pg() -> Iterator[PostgresDatabase]:
    """A PostgreSQL database of the test's own, dropped at the end."""
    database = PostgresDatabase()
    database.create()
    yield database
    database.drop()


def test_postgresql_backup_drop_restore(pg: PostgresDatabase, tmp_path: Path) -> None:
    """`benchfleet backup`, DROP DATABASE, `benchfleet restore FILE`: every row is back."""
    fill(pg.url)
    before = snapshot(pg.url)
    assert_filled(before)
    runner = CliRunner()
    made = runner.invoke(main, ["backup", "--db", pg.url, "--folder", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    dump = Path(made.output.strip())
    assert dump.parent == tmp_path / "backups"
    assert dump.suffix == ".dump"
    assert dump.read_bytes().startswith(b"PGDMP")

    pg.drop()  # the database is lost
    restored = runner.invoke(main, ["restore", str(dump), "--db", pg.url, "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output
    assert snapshot(pg.url) == before
    # The restored database works: twins load, votes tally, users log in.
    engine = make_engine(pg.url)
    assert len(TwinStore(engine).list_twins()) == 12
    assert SqlStore(engine).vote_count() == 3
    engine.dispose()
    assert UserStore.from_url(pg.url).verify_password("crew-lead", "correct horse battery") is not None


def test_postgresql_restore_over_changed_database(pg: PostgresDatabase, tmp_path: Path) -> None:
    """Restoring over a database that changed since replaces its content with the backup's."""
    fill(pg.url)
    before = snapshot(pg.url)
    dump = backup_database(pg.url, tmp_path, T0)
    UserStore.from_url(pg.url).remove_user("crew-lead")
    assert snapshot(pg.url) != before
    restore_database(pg.url, dump)
    assert snapshot(pg.url) == before


def test_sqlite_backup_delete_restore(tmp_path: Path) -> None:
    """The SQLite database file is lost and restored from the backup made by the online backup API."""
    db = tmp_path / "var" / "fleet.db"
    db.parent.mkdir()
    url = f"sqlite:///{db}"
    fill(url)
    before = snapshot(url)
    assert_filled(before)
    runner = CliRunner()
    made = runner.invoke(main, ["backup", "--db", url, "--folder", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    copy = Path(made.output.strip())
    assert copy.suffix == ".sqlite3"

    for leftover in db.parent.glob("fleet.db*"):  # the file and its WAL
        leftover.unlink()
    refused = runner.invoke(main, ["restore", str(copy), "--db", url], input="n\n")
    assert refused.exit_code != 0  # asked, and the answer was no
    assert not db.exists()
    restored = runner.invoke(main, ["restore", str(copy), "--db", url], input="y\n")
    assert restored.exit_code == 0, restored.output
    assert snapshot(url) == before


def test_nightly_job_runs_once_a_day_and_keeps_the_newest(tmp_path: Path) -> None:
    """Run every few minutes, the job backs up once per day after the backup hour and keeps `keep` files."""
    db = tmp_path / "fleet.db"
    fill(f"sqlite:///{db}")
    clock = ManualClock(T0)  # 01:00, before the 02:00 backup hour
    job = BackupJob(f"sqlite:///{db}", tmp_path / "backups", keep=2, clock=clock, hour=2)
    assert job.run() is None
    made: list[Path] = []
    for _ in range(4 * 24 * 6):  # four days, every ten minutes
        clock.advance(timedelta(minutes=10))
        path = job.run()
        if path is not None:
            made.append(path)
    days = ("20261130", "20261201", "20261202", "20261203")
    assert [p.name for p in made] == [f"benchfleet-{day}T020000Z.sqlite3" for day in days]
    assert list_backups(tmp_path / "backups") == made[-2:]


def test_wrong_or_damaged_backups_are_refused(pg: PostgresDatabase, tmp_path: Path) -> None:
    """A SQLite copy into PostgreSQL, a text file, a missing database: clear errors, nothing half-written."""
    sqlite_url = f"sqlite:///{tmp_path / 'fleet.db'}"
    fill(sqlite_url)
    copy = backup_database(sqlite_url, tmp_path / "b", T0)
    with pytest.raises(BackupError, match="is a sqlite backup, but BENCHFLEET_DB is a postgresql database"):
        restore_database(pg.url, copy)
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="not a backup"):
        restore_database(sqlite_url, junk)
    missing = pg.url.rsplit("/", 1)[0] + "/benchfleet_no_such_db"
    with pytest.raises(BackupError, match="pg_dump exited"):
        backup_database(missing, tmp_path / "pgb", T0)
    assert list((tmp_path / "pgb").iterdir()) == []  # no partial file left behind
    with pytest.raises(ValueError, match="at least one"):
        prune(tmp_path / "b", 0)
