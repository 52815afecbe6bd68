"""TwinCache: a read copy refreshed by events (and from SQL when events cross), never the authority."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.events import TwinChanged, VoteCounted
from fleet.ingest.pipeline import RawMessage
from fleet.registry import BenchRecord
from fleet.state.cache import TwinCache
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.twins.samples import T0, payload, status_doc, telemetry_doc
from twins.twin import Attributes


@pytest.fixture
def kit(tmp_path: Path, db_url: str) -> Iterator[Kit]:
    with pipeline_kit(tmp_path, db_url) as k:
        yield k


def test_events_move_the_copy_forward(kit: Kit) -> None:
    cache = TwinCache(kit.twins)
    assert cache.reload() == 12
    kit.pipeline.handle([RawMessage("benches/mostar-01/telemetry", payload(telemetry_doc(seq=3)))])
    assert cache.get("mostar-01").telemetry is None  # type: ignore[union-attr]  # not subscribed yet
    for event in kit.events:
        cache.on_event(event)
    held = cache.get("mostar-01")
    assert held is not None
    assert held.telemetry is not None
    assert held.telemetry.seq == 3
    cache.on_event(VoteCounted("mostar-01", "Mostar", "p", "yes", T0))  # other events are ignored
    assert cache.get("mostar-01") == held


def test_an_older_event_crossing_a_newer_one_is_resolved_from_sql(kit: Kit) -> None:
    cache = TwinCache(kit.twins)
    cache.reload()
    kit.pipeline.handle([RawMessage("benches/mostar-01/telemetry", payload(telemetry_doc(seq=1)))])
    [old] = [e for e in kit.events if isinstance(e, TwinChanged)]
    kit.pipeline.handle([RawMessage("benches/mostar-01/status", payload(status_doc(True)))])
    newest = kit.twins.get_twin("mostar-01")
    assert newest is not None
    cache.on_event(TwinChanged(newest, "connectivity"))
    assert isinstance(old, TwinChanged)
    # A relayed event from another process arrives late: telemetry as new, connectivity older.
    stale = old.twin.model_copy(update={"telemetry_meta": newest.telemetry_meta})
    cache.on_event(TwinChanged(stale, "telemetry"))
    assert cache.get("mostar-01") == newest


def test_reload_finds_benches_registered_by_another_process(kit: Kit) -> None:
    cache = TwinCache(kit.twins)
    cache.reload()
    assert cache.get("novi-99") is None
    kit.twins.register([BenchRecord("novi-99", Attributes(name="Novi", municipality="Novi Grad", lat=45, lon=16))], T0)
    assert cache.reload() == 13
    twin = cache.get("novi-99")
    assert twin is not None
    assert twin.desired_version == 0
    assert [t.bench_id for t in cache.all()] == sorted(t.bench_id for t in cache.all())
