"""An ingest worker that loses its database for 10 s neither crashes nor acknowledges what it could not store;
when the database returns, the messages are processed (private PostgreSQL, real Mosquitto)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from fleet.runtime import FleetRuntime
from tests.fleet.conftest import RuntimeFactory
from tests.fleet.private_pg import PrivatePostgres
from tests.fleet.vote_support import carry
from tests.payloads import BASE_TS, dumps, telemetry, vote
from tests.services import MosquittoService
from tests.twins.samples import ts as rfc
from tests.waiting import wait_until


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.init()
    pg.start()
    yield pg
    pg.remove()


def _messages_in(rt: FleetRuntime) -> float:
    return sum(
        s.value
        for m in rt.metrics.registry.collect()
        if m.name == "benchfleet_messages_in"
        for s in m.samples
        if s.name.endswith("_total")
    )


def _sample(seq: int) -> bytes:
    return dumps(telemetry("nevesinje-01", seq=seq, ts=rfc(BASE_TS + timedelta(seconds=seq))))


@pytest.mark.slow
def test_database_away_for_10_s_nothing_acked_then_everything_processed(
    fresh_mosquitto: MosquittoService, private_pg: PrivatePostgres, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    rt = runtime_factory(fresh_mosquitto.url, db=private_pg.url)
    pub = publisher_factory(fresh_mosquitto.url)
    carry(rt, pub, "nevesinje-01", "outage")  # the bench has the poll in force (its vote counts): 1 message
    pub.publish("benches/nevesinje-01/telemetry", _sample(1), qos=1).wait_for_publish(5)
    wait_until(lambda: rt.worker.processed == 2, timeout=15, message="first sample processed")

    private_pg.stop()
    outage_end = time.monotonic() + 10.0
    sent = 2
    pub.publish("benches/nevesinje-01/events", dumps(vote("nevesinje-01", poll_id="outage", option="yes")), qos=1)
    sent += 1
    for _ in range(200):  # well below the broker's 1000 in flight: every one reaches the ingester
        pub.publish("benches/nevesinje-01/telemetry", _sample(sent), qos=1)
        sent += 1
    wait_until(
        lambda: rt.source.queue.qsize() + _messages_in(rt) >= sent,
        timeout=10,
        message=f"{sent} messages at the ingester (queued behind the batch it keeps retrying)",
    )
    while time.monotonic() < outage_end:  # the rest of the 10 s: the worker keeps trying, acks nothing
        tried = rt.worker.failed_attempts
        wait_until(lambda n=tried: rt.worker.failed_attempts > n, timeout=10, message="another attempt")
        assert rt.worker.processed == 2
    assert rt.worker.processed == 2, "nothing was acknowledged while the database was away"
    assert rt.worker.alive(), "the worker kept running"

    private_pg.start()
    wait_until(lambda: rt.worker.processed == sent, timeout=60, message=f"all {sent} messages processed")
    twin = rt.service.get_twin("nevesinje-01")
    assert twin is not None
    assert twin.telemetry is not None
    assert twin.telemetry.seq == sent - 1  # the newest sample
    assert twin.counted_votes == {"outage": {"yes": 1}}
    end = BASE_TS + timedelta(seconds=sent + 1)
    points = rt.tsdb.query_series("telemetry", "seq", {"bench_id": "nevesinje-01"}, BASE_TS, end, timedelta(seconds=1))
    # seq 1 before the outage, then 3 ... sent-1 (message 2 was the vote)
    assert sorted(p.value for p in points if p.value is not None) == [1.0, *(float(s) for s in range(3, sent))]
