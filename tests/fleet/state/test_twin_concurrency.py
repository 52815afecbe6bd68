"""Conditional writes on real PostgreSQL: two pipelines racing never lose the newer write; a batch is atomic."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.db.engine import make_engine
from fleet.ingest.pipeline import IngestPipeline, RawMessage
from fleet.state.twin_store import TwinStore
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.twins.samples import T0, payload, reported_doc, status_doc, telemetry_doc, vote_doc

S = timedelta(seconds=1)


@pytest.fixture
def kit(tmp_path: Path, db_url: str) -> Iterator[Kit]:
    with pipeline_kit(tmp_path, db_url) as k:
        yield k


def _telemetry(i: int, bench: str = "mostar-01") -> RawMessage:
    # Several samples per second (seq breaks the tie), so the order is (ts, seq) and not ts alone.
    return RawMessage(f"benches/{bench}/telemetry", payload(telemetry_doc(bench, when=T0 + (i // 3) * S, seq=i)))


def test_two_pipelines_interleaving_old_and_new_samples_keep_the_newest(kit: Kit, db_url: str) -> None:
    # A second worker: its own engine (connections) and pipeline over the same database.
    other_engine = make_engine(db_url)
    other = IngestPipeline(TwinStore(other_engine), kit.writer, kit.metrics, kit.clock)
    benches = ["mostar-01", "trebinje-01", "ravno-01"]
    samples = [_telemetry(i, b) for i in range(300) for b in benches]
    rng = random.Random(7)
    halves = [samples[0::2], samples[1::2]]
    for half in halves:
        rng.shuffle(half)  # each worker sees old and new samples in any order
    errors: list[BaseException] = []

    def run(pipeline: IngestPipeline, messages: list[RawMessage]) -> None:
        try:
            for i in range(0, len(messages), 7):
                pipeline.handle(messages[i : i + 7])
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [
        threading.Thread(target=run, args=(kit.pipeline, halves[0])),
        threading.Thread(target=run, args=(other, halves[1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other_engine.dispose()
    assert errors == []
    for bench in benches:
        twin = kit.twins.get_twin(bench)
        assert twin is not None
        assert twin.telemetry is not None
        assert (twin.telemetry.ts, twin.telemetry.seq) == (T0 + 99 * S, 299)
        # Every accepted sample bumped the version once at most; the newest one was accepted last.
        assert 1 <= twin.telemetry_meta.version <= 300


def test_an_older_write_after_a_newer_commit_changes_nothing(kit: Kit, db_url: str) -> None:
    late_engine = make_engine(db_url)
    late = IngestPipeline(TwinStore(late_engine), kit.writer, kit.metrics, kit.clock)
    kit.pipeline.handle(
        [
            _telemetry(10),
            RawMessage("benches/mostar-01/reported", payload(reported_doc(when=T0 + 5 * S))),
            RawMessage("benches/mostar-01/status", payload(status_doc(False, when=T0 + 5 * S, reason="lost"))),
        ]
    )
    newest = kit.twins.get_twin("mostar-01")
    late.handle(
        [
            _telemetry(9),
            RawMessage("benches/mostar-01/reported", payload(reported_doc(when=T0))),
            RawMessage("benches/mostar-01/status", payload(status_doc(True, when=T0))),
        ]
    )
    late_engine.dispose()
    after = kit.twins.get_twin("mostar-01")
    assert after is not None
    assert newest is not None
    assert after.telemetry == newest.telemetry
    assert after.reported == newest.reported
    assert after.connectivity.online is False
    assert after.versions() == newest.versions()


def test_a_batch_is_one_transaction(kit: Kit) -> None:
    kit.carry_polls()
    batch = [_telemetry(5), RawMessage("benches/mostar-01/events", payload(vote_doc(option="yes")))]
    with kit.twins.engine.begin() as conn:  # a statement late in the batch's transaction will fail
        conn.exec_driver_sql("ALTER TABLE vote_counts RENAME TO vote_counts_away")
    with pytest.raises(Exception, match="vote_counts"):
        kit.pipeline.handle(batch)
    with kit.twins.engine.connect() as conn:
        telemetry = conn.exec_driver_sql("SELECT telemetry FROM twins WHERE bench_id = 'mostar-01'").scalar_one()
    assert telemetry is None  # the telemetry UPDATE of the failed batch was rolled back too
    assert kit.store.vote_count() == 0
    assert kit.events == []  # nothing announced for a batch that did not commit
    with kit.twins.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE vote_counts_away RENAME TO vote_counts")
    kit.pipeline.handle(batch)  # redelivered: now it all lands
    twin = kit.twins.get_twin("mostar-01")
    assert twin is not None
    assert twin.telemetry is not None
    assert twin.counted_votes == {"park-2026": {"yes": 1}}
    assert json.loads(twin.telemetry.model_dump_json())["seq"] == 5
