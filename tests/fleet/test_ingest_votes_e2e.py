"""Issue 8, items 3 and 4, end to end: real Mosquitto, PostgreSQL and the fleet runtime; the attacks replayed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from fleet.ops.audit import AuditQuery
from fleet.runtime import FleetRuntime
from fleet.service_api import EVERYTHING
from tests.fleet.conftest import RuntimeFactory
from tests.fleet.vote_support import carry
from tests.payloads import dumps, vote
from tests.services import MosquittoService
from tests.twins.samples import poll_doc, ts
from tests.waiting import wait_until

Publisher = Callable[[str], mqtt.Client]
BURST = 5000
LIMIT = 120  # the default VoteRate: 120 per bench and poll in 10 minutes


def _rejected(rt: FleetRuntime, reason: str) -> float:
    return rt.metrics.rejected.labels(reason)._value.get()


def _codes(rt: FleetRuntime, bench_id: str) -> set[str]:
    twin = rt.service.get_twin(bench_id)
    assert twin is not None
    return {r.code for r in twin.health(rt.service.now()).reasons}


def test_votes_that_do_not_count_are_refused_by_reason(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, publisher_factory: Publisher
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    pub = publisher_factory(fresh_mosquitto.url)
    # Trebinje's poll, claimed through the dashboards; Mostar's bench was given it anyway (a forged config).
    assert rt.service.claim_polls(["treb-secret"], "Trebinje", "tre") == {"treb-secret": "Trebinje"}
    closed = poll_doc("closed-2026", opens="2026-01-01T00:00:00Z", closes="2026-02-01T00:00:00Z")
    carry(rt, pub, "mostar-01", "park-2026", "treb-secret", closed)
    carry(rt, pub, "trebinje-01", "treb-secret")
    refused = {
        "vote_poll_not_open": vote("mostar-01", poll_id="closed-2026"),
        "vote_unknown_poll": vote("mostar-01", poll_id="nope-2026"),
        "poll_not_owned": vote("mostar-01", poll_id="treb-secret"),
        "vote_unknown_option": vote("mostar-01", poll_id="park-2026", option="maybe"),
    }
    dated_1970 = vote("mostar-01", poll_id="park-2026")
    dated_1970["ts"] = ts(datetime(1970, 1, 1, tzinfo=UTC))  # refused by the contract's bounds
    for doc in (*refused.values(), dated_1970):
        pub.publish("benches/mostar-01/events", dumps(doc), qos=1).wait_for_publish(5)
    pub.publish("benches/mostar-01/events", dumps(vote("mostar-01", poll_id="park-2026")), qos=1)
    pub.publish("benches/trebinje-01/events", dumps(vote("trebinje-01", poll_id="treb-secret")), qos=1)
    wait_until(lambda: rt.metrics.votes_counted._value.get() >= 2, timeout=15, message="the two valid votes")
    wait_until(lambda: rt.metrics.rejected_total() >= 5, timeout=15, message="the five refusals")
    assert {reason: _rejected(rt, reason) for reason in refused} == dict.fromkeys(refused, 1.0)
    assert _rejected(rt, "invalid_payload") == 1  # the 1970 vote
    text = rt.service.metrics_text()
    assert 'benchfleet_messages_rejected_total{reason="poll_not_owned"} 1.0' in text
    assert rt.service.poll_results("park-2026", EVERYTHING).total == {"yes": 1}
    # Public results of Trebinje's poll are Trebinje's alone.
    assert rt.service.poll_results("treb-secret", EVERYTHING).by_municipality == {"Trebinje": {"yes": 1}}
    assert rt.service.poll_results("closed-2026", EVERYTHING).total == {}


def test_a_burst_of_5000_votes_is_held_until_a_review_counts_it_once(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, publisher_factory: Publisher
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    pub = publisher_factory(fresh_mosquitto.url)
    carry(rt, pub, "mostar-01", "park-2026")
    for i in range(BURST):
        doc = vote("mostar-01", poll_id="park-2026", option=("yes", "no")[i % 2], event_id=str(uuid.uuid4()))
        pub.publish("benches/mostar-01/events", dumps(doc), qos=1)
    wait_until(lambda: rt.store.vote_count() == BURST, timeout=60, message="every vote stored")
    assert sum(rt.service.poll_results("park-2026", EVERYTHING).total.values()) == LIMIT
    twin = rt.service.get_twin("mostar-01")
    assert twin is not None
    assert twin.votes_suspect == BURST - LIMIT
    assert "votes_suspect" in _codes(rt, "mostar-01")
    assert "benchfleet_votes_suspect_total 4880.0" in rt.service.metrics_text()
    [held] = rt.service.suspect_votes(EVERYTHING)
    assert (held.bench_id, held.poll_id, held.votes) == ("mostar-01", "park-2026", BURST - LIMIT)

    assert rt.service.review_suspect("mostar-01", "park-2026", "accept", "ada") == BURST - LIMIT
    assert rt.service.review_suspect("mostar-01", "park-2026", "accept", "ada") == 0
    assert rt.service.poll_results("park-2026", EVERYTHING).total == {"yes": BURST // 2, "no": BURST // 2}
    assert "votes_suspect" not in _codes(rt, "mostar-01")
    # The fleet list (the cache the fleet page reads) follows the review.
    [listed] = [t for t in rt.service.list_twins(EVERYTHING) if t.bench_id == "mostar-01"]
    assert listed.votes_suspect == 0
    actions = [(e.actor, e.action) for e in rt.service.audit_entries(AuditQuery(bench_id="mostar-01"), EVERYTHING)]
    assert actions.count(("ada", "votes.accept")) == 2
