"""Alembic migrations: a wave-1 database (twins as JSON documents, votes, users) upgrades with nothing lost,
on SQLite and PostgreSQL; an old schema stops serve/ingest with `benchfleet migrate` named."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import DateTime, Engine, MetaData, String, Text, column, insert, select, table

from fleet.auth.store import UserStore
from fleet.cli import main
from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.db.schema import FLEET_TABLES, desired_history
from fleet.ops.alarm_tables import ALARM_TABLES
from fleet.registry import default_fleet
from fleet.state.twin_store import TwinStore
from tests.services import PostgresDatabase
from tests.twins.samples import T0, reported_doc, status_doc, telemetry_doc, vote_doc
from twins.messages import Reported, Status, Telemetry, VoteEvent
from twins.twin import Twin, apply_reported, apply_status, apply_telemetry, count_vote, new_twin, patch_desired

S = timedelta(seconds=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield tmp_sqlite_url
        return
    database = PostgresDatabase()
    database.create()
    yield database.url
    database.drop()


def _wave1(engine: Engine) -> None:
    """The wave-1 schema exactly as that release created it: revision 1, without an alembic_version."""
    with engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_wave1")
        conn.exec_driver_sql("DROP TABLE alembic_version")


def _vote(bench_id: str, option: str) -> VoteEvent:
    return VoteEvent.model_validate_json(
        json.dumps(vote_doc(bench_id=bench_id, option=option, event_id=str(uuid.uuid4())))
    )


def _rich_twin(votes: list[VoteEvent]) -> Twin:
    """A wave-1 twin with every section filled, three desired versions and a vote mismatch."""
    mostar = default_fleet()[4]
    assert mostar.bench_id == "mostar-01"
    twin = new_twin(mostar.bench_id, mostar.attributes)
    sample = Telemetry.model_validate_json(json.dumps(telemetry_doc(seq=42, votes={"park-2026": {"yes": 5}})))
    twin, _ = apply_telemetry(twin, sample, T0 + S)
    twin, _ = apply_status(twin, Status.model_validate_json(json.dumps(status_doc(True, when=T0))), T0 + S)
    doc = reported_doc(when=T0, config={"version": 2, "status": "applied"})
    twin, _ = apply_reported(twin, Reported.model_validate_json(json.dumps(doc)), T0 + S)
    for v in votes:
        twin = count_vote(twin, v.data.poll_id, v.data.option, T0 + 2 * S)
    for interval in (30, 40, 50):
        twin = patch_desired(twin, {"telemetry_interval_s": interval}, T0 + 3 * S)
    assert twin.desired_version == 3
    assert twin.votes_mismatch_since is not None
    return twin


def _fill_wave1(engine: Engine) -> tuple[list[Twin], list[VoteEvent]]:
    votes = [_vote("mostar-01", "yes"), _vote("mostar-01", "no"), _vote("mostar-01", "yes")]
    rich = _rich_twin(votes)
    records = default_fleet()
    plain = [new_twin(r.bench_id, r.attributes) for r in records if r.bench_id != "mostar-01"]
    old_twins = table("twins", column("bench_id", String), column("doc", Text), column("updated_at", DateTime))
    bench_rows = [
        {"bench_id": r.bench_id, **r.attributes.model_dump(), "created_at": T0, "updated_at": T0} for r in records
    ]
    benches = table("benches", *(column(c) for c in bench_rows[0]))
    events = table(
        "vote_events",
        *(column(c) for c in ("event_id", "bench_id", "municipality", "poll_id", "option", "ts", "received_at")),
    )
    with engine.begin() as conn:
        conn.execute(insert(benches), bench_rows)
        conn.execute(
            insert(old_twins),
            [{"bench_id": t.bench_id, "doc": t.model_dump_json(), "updated_at": T0} for t in [rich, *plain]],
        )
        conn.execute(
            insert(events),
            [
                {
                    "event_id": str(v.id),
                    "bench_id": v.bench_id,
                    "municipality": "Mostar",
                    "poll_id": v.data.poll_id,
                    "option": v.data.option,
                    "ts": v.ts,
                    "received_at": T0,
                }
                for v in votes
            ],
        )
    UserStore(engine).add_user("ada", "a-long-password", "admin")
    return [rich, *plain], votes


def test_wave1_database_upgrades_with_nothing_lost(url: str) -> None:
    engine = make_engine(url)
    try:
        _wave1(engine)
        before, votes = _fill_wave1(engine)
        with pytest.raises(migrate.SchemaOutdated, match="benchfleet migrate"):
            migrate.ensure_schema(engine, auto_upgrade=False)

        done = migrate.upgrade(engine)

        assert (done.before, done.after) == (None, migrate.head_revision())
        assert migrate.ensure_schema(engine, auto_upgrade=False) is None  # current now: serve starts
        after = {t.bench_id: t for t in TwinStore(engine).list_twins()}
        assert after == {t.bench_id: t for t in before}  # every section, version and time, exactly
        assert after["mostar-01"].counted_votes == {"park-2026": {"yes": 2, "no": 1}}
        assert after["mostar-01"].desired_version == 3
        with engine.connect() as conn:
            history = conn.execute(select(desired_history.c.bench_id, desired_history.c.version)).all()
        assert history == [("mostar-01", 3)]  # version 3 can never be handed out again
        assert UserStore(engine).verify_password("ada", "a-long-password") is not None
        assert len(votes) == 3
    finally:
        engine.dispose()


def test_next_desired_version_after_upgrade_is_4(url: str) -> None:
    from fleet.state.desired import DesiredVersions

    engine = make_engine(url)
    try:
        _wave1(engine)
        _fill_wave1(engine)
        migrate.upgrade(engine)
        twin = DesiredVersions(TwinStore(engine)).patch("mostar-01", {"telemetry_interval_s": 60}, 3, "ada", T0)
        assert twin.desired_version == 4
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_declared_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        declared = MetaData()
        for t in (*FLEET_TABLES, *ALARM_TABLES):
            t.to_metadata(declared)
        from fleet.auth.store import api_tokens_table, users_table

        users_table.to_metadata(declared)
        api_tokens_table.to_metadata(declared)
        from fleet.ops.audit import audit_log
        from fleet.ops.commands import commands_table

        audit_log.to_metadata(declared)
        commands_table.to_metadata(declared)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), declared)
        ours = {t.name for t in declared.sorted_tables}
        relevant = [d for d in diff if not (d[0] == "remove_table" and d[1].name not in ours)]
        assert relevant == []
    finally:
        engine.dispose()


def test_empty_database_gets_the_schema_without_asking(tmp_sqlite_url: str) -> None:
    engine = make_engine(tmp_sqlite_url)
    try:
        done = migrate.ensure_schema(engine, auto_upgrade=False)
        assert done is not None
        assert done.after == migrate.head_revision()
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_database_with_only_users_upgrades_without_asking(tmp_sqlite_url: str) -> None:
    engine = make_engine(tmp_sqlite_url)
    try:
        UserStore(engine).add_user("ada", "a-long-password", "admin")  # `benchfleet user add` before serve
        assert migrate.ensure_schema(engine, auto_upgrade=False) is not None
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert UserStore(engine).verify_password("ada", "a-long-password") is not None
    finally:
        engine.dispose()


def test_migrate_command_prints_from_and_to(tmp_sqlite_url: str) -> None:
    engine = make_engine(tmp_sqlite_url)
    _wave1(engine)
    engine.dispose()
    result = CliRunner().invoke(main, ["migrate", "--db", tmp_sqlite_url])
    assert result.exit_code == 0, result.output
    assert f"none (wave 1 or empty) -> {migrate.head_revision()}" in result.output
    again = CliRunner().invoke(main, ["migrate", "--db", tmp_sqlite_url])
    assert f"{migrate.head_revision()} -> {migrate.head_revision()}" in again.output


def test_ingest_refuses_an_old_schema_naming_migrate(tmp_sqlite_url: str, tmp_path) -> None:
    engine = make_engine(tmp_sqlite_url)
    _wave1(engine)
    engine.dispose()
    result = CliRunner().invoke(
        main,
        ["ingest", "--db", tmp_sqlite_url, "--mqtt", "mqtt://127.0.0.1:1", "--data-dir", str(tmp_path / "data")],
    )
    assert result.exit_code != 0
    assert "benchfleet migrate" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_vote_review_revision_adopts_poll_ids_in_use(url: str) -> None:
    """0006: every configured poll id gets an owner (its only town, else the fleet); stored votes stay counted."""
    from fleet.db.schema import polls, vote_events
    from tests.twins.samples import poll_doc
    from twins.config import DEFAULT_CONFIG_DOC

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = migrate._config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0005_auth_sessions")
        carried = {"mostar-01": ["park-2026", "shared"], "trebinje-01": ["shared"]}
        records = [r for r in default_fleet() if r.bench_id in carried]
        bench_rows = [
            {"bench_id": r.bench_id, **r.attributes.model_dump(), "created_at": T0, "updated_at": T0} for r in records
        ]
        versions = ("telemetry_version", "reported_version", "connectivity_version", "desired_version")
        old_twins = table("twins", *(column(c) for c in ("bench_id", "desired", "updated_at", *versions)))
        events = ("event_id", "bench_id", "municipality", "poll_id", "option", "ts", "received_at")
        vote = _vote("mostar-01", "yes")
        with engine.begin() as conn:
            conn.execute(insert(table("benches", *(column(c) for c in bench_rows[0]))), bench_rows)
            conn.execute(
                insert(old_twins),
                [
                    {
                        "bench_id": b,
                        "desired": json.dumps({**DEFAULT_CONFIG_DOC, "polls": [poll_doc(p) for p in ids]}),
                        "updated_at": T0,
                        **dict.fromkeys(versions, 0),
                    }
                    for b, ids in carried.items()
                ],
            )
            row = {"event_id": str(vote.id), "bench_id": "mostar-01", "municipality": "Mostar", "poll_id": "park-2026"}
            conn.execute(
                insert(table("vote_events", *(column(c) for c in events))),
                [{**row, "option": "yes", "ts": vote.ts, "received_at": T0}],
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            owners = dict(conn.execute(select(polls.c.poll_id, polls.c.owner)).all())
            statuses = conn.execute(select(vote_events.c.status)).scalars().all()
        assert owners == {"park-2026": "Mostar", "shared": None}
        assert statuses == ["counted"]
        assert TwinStore(engine).get_twin("mostar-01").votes_suspect == 0  # type: ignore[union-attr]
    finally:
        engine.dispose()
