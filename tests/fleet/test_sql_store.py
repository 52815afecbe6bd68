"""SqlStore on SQLite and PostgreSQL: registry upserts, votes counted once per event id, tallies."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete

from fleet.db.engine import make_engine
from fleet.db.schema import FLEET_TABLES
from fleet.db.store import SqlStore, TallyRow, VoteRow
from fleet.registry import BenchRecord, default_fleet
from fleet.state.votes import insert_votes
from tests.twins.samples import T0, vote_doc
from twins.messages import VoteEvent
from twins.twin import Attributes

S = timedelta(seconds=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_sqlite_url: str) -> Iterator[SqlStore]:
    url = tmp_sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_engine(url)
    s = SqlStore(engine)
    s.create_schema()
    with engine.begin() as conn:  # the PostgreSQL database is shared by the session
        for table in FLEET_TABLES:
            conn.execute(delete(table))
    yield s
    engine.dispose()


def vote(
    bench_id: str = "mostar-01", option: str = "yes", poll_id: str = "park-2026", event_id: str | None = None
) -> VoteEvent:
    doc = vote_doc(bench_id=bench_id, option=option, poll_id=poll_id, event_id=event_id)
    return VoteEvent.model_validate_json(json.dumps(doc))


def rows(*events: VoteEvent, municipality: str = "Mostar") -> list[VoteRow]:
    return [VoteRow(e, municipality) for e in events]


# --- registry -------------------------------------------------------------------------------------------


def test_schema_creation_is_idempotent_and_ping_works(store: SqlStore) -> None:
    store.create_schema()
    assert store.ping() is True
    assert store.count_benches() == 0
    assert store.describe().split()[0] in ("sqlite", "postgresql")


def test_upsert_benches_inserts_then_updates(store: SqlStore) -> None:
    fleet = default_fleet()
    assert store.upsert_benches(fleet, T0) == 12
    assert store.count_benches() == 12
    assert store.list_benches() == sorted(fleet, key=lambda r: r.bench_id)
    moved = BenchRecord(
        "mostar-01", Attributes(name="Mostar Old Bridge", municipality="Mostar", lat=43.337, lon=17.815, altitude_m=55)
    )
    new = BenchRecord("mostar-02", Attributes(name="Mostar 2", municipality="Mostar", lat=43.35, lon=17.80))
    assert store.upsert_benches([moved, new], T0 + S) == 2
    assert store.count_benches() == 13
    listed = {r.bench_id: r for r in store.list_benches()}
    assert listed["mostar-01"] == moved
    assert listed["mostar-02"] == new
    assert listed["trebinje-01"] == next(r for r in fleet if r.bench_id == "trebinje-01")
    assert store.upsert_benches([], T0) == 0


def test_unicode_names_survive(store: SqlStore) -> None:
    store.upsert_benches([r for r in default_fleet() if r.bench_id in ("zepce-01", "zavidovici-01")], T0)
    assert [r.attributes.name for r in store.list_benches()] == ["Zavidovići", "Žepče"]


# --- votes ------------------------------------------------------------------------------------------------------


def record_votes(store: SqlStore, votes: Sequence[VoteRow], received_at: datetime) -> set[str]:
    """Count votes as an ingest batch does (``insert_votes`` in a transaction); the ids counted now."""
    with store.engine.begin() as conn:
        return {str(v.event.id) for v in insert_votes(conn, votes, received_at).counted}


def test_record_votes_returns_only_new_ids(store: SqlStore) -> None:
    a, b, c = vote(option="yes"), vote(option="no"), vote(option="yes")
    assert record_votes(store, rows(a, b), T0) == {str(a.id), str(b.id)}
    assert record_votes(store, rows(a, b, c), T0 + S) == {str(c.id)}
    assert record_votes(store, rows(a, b, c), T0 + 2 * S) == set()
    assert store.vote_count() == 3
    assert record_votes(store, [], T0) == set()


def test_duplicate_id_in_one_call_counts_once(store: SqlStore) -> None:
    a = vote()
    assert record_votes(store, rows(a, a, a), T0) == {str(a.id)}
    assert store.vote_count() == 1


def test_redelivery_with_other_content_does_not_recount(store: SqlStore) -> None:
    event_id = str(uuid.uuid4())
    record_votes(store, rows(vote(option="yes", event_id=event_id)), T0)
    # Same event id with a different option (a corrupted replay): the first one stands.
    assert record_votes(store, rows(vote(option="no", event_id=event_id)), T0 + S) == set()
    assert store.tally("park-2026") == [TallyRow("mostar-01", "Mostar", "yes", 1)]


def _cast_votes(store: SqlStore) -> None:
    record_votes(
        store,
        rows(vote("mostar-01", "yes"), vote("mostar-01", "yes"), vote("mostar-01", "no"), municipality="Mostar")
        + rows(vote("mostar-02", "yes"), municipality="Mostar")
        + rows(vote("trebinje-01", "no"), vote("trebinje-01", "no"), municipality="Trebinje")
        + rows(vote("trebinje-01", "a", poll_id="bus-2027"), municipality="Trebinje"),
        T0,
    )


def test_tally_per_bench_option_and_municipality(store: SqlStore) -> None:
    _cast_votes(store)
    assert store.tally("park-2026") == [
        TallyRow("mostar-01", "Mostar", "no", 1),
        TallyRow("mostar-01", "Mostar", "yes", 2),
        TallyRow("mostar-02", "Mostar", "yes", 1),
        TallyRow("trebinje-01", "Trebinje", "no", 2),
    ]
    assert store.tally("bus-2027") == [TallyRow("trebinje-01", "Trebinje", "a", 1)]
    assert store.tally("no-such-poll") == []


def test_tally_scope_filter(store: SqlStore) -> None:
    _cast_votes(store)
    assert {r.municipality for r in store.tally("park-2026", frozenset({"Trebinje"}))} == {"Trebinje"}
    assert len(store.tally("park-2026", frozenset({"Mostar"}))) == 3
    assert store.tally("park-2026", frozenset()) == []
    assert len(store.tally("park-2026", None)) == 4


def test_counted_votes_by_bench(store: SqlStore) -> None:
    _cast_votes(store)
    assert store.counted_votes_by_bench() == {
        "mostar-01": {"park-2026": {"yes": 2, "no": 1}},
        "mostar-02": {"park-2026": {"yes": 1}},
        "trebinje-01": {"park-2026": {"no": 2}, "bus-2027": {"a": 1}},
    }


def test_concurrent_ingesters_count_each_vote_exactly_once(store: SqlStore) -> None:
    # Two ingesters behind a shared subscription may both get a redelivered vote: the table decides.
    events = [vote(option=("yes", "no")[i % 2]) for i in range(40)]
    results: list[set[str]] = []
    errors: list[BaseException] = []

    def ingest(order: list[VoteEvent]) -> None:
        try:
            for i in range(0, len(order), 5):
                results.append(record_votes(store, rows(*order[i : i + 5]), T0))
        except BaseException as err:  # surfaced below: a thread's assertion would be lost otherwise
            errors.append(err)

    threads = [threading.Thread(target=ingest, args=(events[::step],)) for step in (1, -1, 1, -1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    returned = [event_id for batch in results for event_id in batch]
    assert sorted(returned) == sorted(str(e.id) for e in events)  # every id once, over all threads
    assert store.vote_count() == 40
    assert sum(r.votes for r in store.tally("park-2026")) == 40
