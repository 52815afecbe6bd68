"""Fleet events across processes through a real redis-server: delivered once, never echoed, Redis loss survived."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from fleet.event_bus import EventBus
from fleet.event_codec import EventDecodeError, decode_event, encode_event
from fleet.event_relay import Backoff, RedisEventRelay, channel_for, publish_events
from fleet.events import ConfigStatusChanged, FleetEvent, TwinChanged, VoteCounted
from fleet.registry import default_fleet
from tests.dashboards.fake_fleet import FakeFleet
from tests.dashboards.fake_fleet import telemetry as fake_telemetry
from tests.services import RedisService
from tests.waiting import wait_until
from twins.clock import ManualClock
from twins.twin import Twin, new_twin

AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
FAST = Backoff(first_s=0.05, max_s=0.2)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisService]:
    server = RedisService(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


class Process:
    """One process's bus, relay and everything its listeners saw."""

    def __init__(self, url: str, name: str, **kwargs: object) -> None:
        self.bus = EventBus()
        self.seen: list[FleetEvent] = []
        self.bus.subscribe(self.seen.append)
        self.relay = RedisEventRelay(url, self.bus, origin=name, backoff=FAST, **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> Process:
        self.relay.start()
        wait_until(self.relay.subscribed.is_set, timeout=5, message=f"{self.relay.origin} subscribed")
        return self

    def __exit__(self, *exc: object) -> None:
        self.relay.stop()


def _twin(i: int = 0) -> Twin:
    rec = default_fleet()[i]
    return new_twin(rec.bench_id, rec.attributes)


def _lived_twin() -> Twin:
    """A twin with every section filled (telemetry, reported, desired v1): what ingestion announces."""
    fleet = FakeFleet(ManualClock(AT))
    fleet.ingest_telemetry(fake_telemetry("mostar-01", AT, 3))
    fleet.patch_desired("mostar-01", {"wifi": {"max_clients": 30}}, None, "t")
    fleet.report_config("mostar-01", 1, "applied")
    twin = fleet.get_twin("mostar-01")
    assert twin is not None
    assert twin.telemetry is not None
    assert twin.reported is not None
    return twin


def test_every_event_kind_survives_the_wire() -> None:
    events: list[FleetEvent] = [
        TwinChanged(_lived_twin(), "telemetry"),
        TwinChanged(_twin(), "attributes"),
        ConfigStatusChanged("mostar-01", "Mostar", 3, "rejected", "bad wifi", AT),
        VoteCounted("mostar-01", "Mostar", "park-2026", "yes", AT),
    ]
    for event in events:
        assert decode_event(encode_event(event, "p-1")) == ("p-1", event)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"{not json", "Invalid JSON"),
        (b'{"kind": "twin_changed"}', "twin_changed.origin: Field required"),
        (b'{"origin": "x", "kind": "bench_exploded", "event": {}}', "'bench_exploded'"),
        (b'{"origin": "x", "kind": "vote_counted", "event": {"bench_id": "a"}}', "vote_counted.event.poll_id"),
    ],
)
def test_a_bad_document_is_refused_with_a_reason(data: bytes, needle: str) -> None:
    with pytest.raises(EventDecodeError, match=re.escape(needle)):
        decode_event(data)


def test_an_event_reaches_every_other_process_once_and_never_comes_back(redis_server: RedisService) -> None:
    with (
        Process(redis_server.url, "ingest-a") as a,
        Process(redis_server.url, "dash-b") as b,
        Process(redis_server.url, "dash-c") as c,
    ):
        event = TwinChanged(_twin(), "telemetry")
        a.bus.publish(event)
        wait_until(lambda: b.seen and c.seen, timeout=5, message="event in both other processes")
        # A marker after it: once the marker arrived, a duplicate or an echo of the first would have too.
        marker = VoteCounted("mostar-01", "Mostar", "p", "yes", AT)
        b.bus.publish(marker)
        wait_until(lambda: marker in a.seen and marker in c.seen, timeout=5, message="marker everywhere")
        assert a.seen == [event, marker]
        assert b.seen == [event, marker]
        assert c.seen == [event, marker]
        assert a.relay.received == 1
        assert a.relay.sent == 1


def test_a_foreign_document_on_the_channel_is_ignored(redis_server: RedisService) -> None:
    with Process(redis_server.url, "dash") as dash:
        client = redis.Redis.from_url(redis_server.url)
        client.publish(channel_for(redis_server.url), b"garbage")
        client.close()
        sent = publish_events(redis_server.url, [TwinChanged(_twin(1), "attributes")], origin="cli-import")
        assert sent == 1
        wait_until(lambda: dash.seen, timeout=5, message="event after the garbage")
        assert dash.relay.bad == 1
        assert isinstance(dash.seen[0], TwinChanged)
        assert dash.seen[0].twin.bench_id == default_fleet()[1].bench_id


def test_redis_down_never_blocks_publishing_and_the_relay_comes_back(redis_server: RedisService) -> None:
    resyncs: list[float] = []
    with (
        Process(redis_server.url, "ingest") as ingest,
        Process(redis_server.url, "dash", on_resync=lambda: resyncs.append(time.monotonic())) as dash,
    ):
        redis_server.kill()
        wait_until(lambda: not dash.relay.subscribed.is_set(), timeout=20, message="outage noticed")
        event = VoteCounted("mostar-01", "Mostar", "p", "yes", AT)
        started = time.perf_counter()
        for _ in range(20_000):  # more than the queue holds: the surplus is dropped, not waited for
            ingest.bus.publish(event)
        assert time.perf_counter() - started < 2.0  # ~10 µs each on this machine; a wait would be ≥ 0.05 s
        assert ingest.relay.dropped > 0
        assert len(ingest.seen) == 20_000  # the local listeners got every event regardless

        redis_server.start()  # same port
        wait_until(dash.relay.subscribed.is_set, timeout=20, message="resubscribed")
        wait_until(lambda: resyncs, timeout=5, message="resync after the outage")
        dash.seen.clear()
        after = ConfigStatusChanged("mostar-01", "Mostar", 9, "applied", None, AT)
        ingest.bus.publish(after)
        wait_until(lambda: after in dash.seen, timeout=20, message="events flow again")


def test_waiting_twin_changes_of_a_bench_collapse_into_its_latest(redis_server: RedisService) -> None:
    twins = [_twin(0), _twin(1)]
    with Process(redis_server.url, "dash") as dash:
        ingest = Process(redis_server.url, "ingest")
        for n in range(500):  # queued before the sender runs, as under load between two round trips
            for twin in twins:
                ingest.relay.forward(TwinChanged(twin, f"telemetry-{n}"))
        vote = VoteCounted("mostar-01", "Mostar", "p", "no", AT)
        ingest.relay.forward(vote)
        with ingest:
            wait_until(lambda: len(dash.seen) >= 3, timeout=5, message="the collapsed events")
            marker = VoteCounted("mostar-01", "Mostar", "p", "marker", AT)
            ingest.bus.publish(marker)
            wait_until(lambda: marker in dash.seen, timeout=5, message="marker")
    changed = [e for e in dash.seen if isinstance(e, TwinChanged)]
    assert sorted((e.twin.bench_id, e.section) for e in changed) == sorted((t.bench_id, "telemetry-499") for t in twins)
    assert [e for e in dash.seen if isinstance(e, VoteCounted)] == [vote, marker]
