"""Property tests: no byte string, JSON value or topic makes ingestion raise, and every message is counted."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.ingest.pipeline import RawMessage
from fleet.registry import default_fleet
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.services import PostgresDatabase
from tests.twins.samples import (
    EVENT_DATA,
    cmd_doc,
    desired_doc,
    event_doc,
    reported_doc,
    status_doc,
    telemetry_doc,
    vote_doc,
)
from twins.codec import Rejected, RejectReason, decode
from twins.messages import VoteEvent
from twins.topics import INBOUND_KINDS, TopicKind

SETTINGS = settings(
    max_examples=200,
    deadline=None,  # a shared, noisy machine: wall-time per example is not what is under test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
KNOWN = [r.bench_id for r in default_fleet()]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
bench_ids = st.sampled_from(KNOWN) | st.from_regex(r"[a-z0-9][a-z0-9-]{2,10}", fullmatch=True)
kinds = st.sampled_from([k.value for k in TopicKind])
valid_topics = st.builds(lambda b, k: f"benches/{b}/{k}", bench_ids, kinds)
any_topics = st.text(max_size=40) | valid_topics | st.builds(lambda t: f"benches/{t}", st.text(max_size=30))

#: kind → builder of a valid document for a bench.
VALID_DOCS: dict[str, Callable[[str], dict[str, Any]]] = {
    "telemetry": lambda b: telemetry_doc(bench_id=b),
    "events": lambda b: vote_doc(bench_id=b),
    "reported": lambda b: reported_doc(bench_id=b, config={"version": 0, "status": "applied"}),
    "status": lambda b: status_doc(True, bench_id=b),
    "desired": lambda b: desired_doc(bench_id=b),
    "cmd": lambda b: cmd_doc(bench_id=b),
}


@st.composite
def almost_valid(draw: st.DrawFn) -> RawMessage:
    """A valid message of some kind, perhaps with one key replaced or removed (or an event of any type)."""
    bench = draw(bench_ids)
    kind = draw(st.sampled_from(sorted(VALID_DOCS)))
    doc = VALID_DOCS[kind](bench)
    if kind == "events" and draw(st.booleans()):
        event_type = draw(st.sampled_from(sorted(EVENT_DATA)))
        doc = event_doc(event_type, EVENT_DATA[event_type], bench_id=bench)
    action = draw(st.sampled_from(["keep", "replace", "drop", "replace_nested"]))
    key = draw(st.sampled_from(sorted(doc)))
    if action == "replace":
        doc[key] = draw(json_values)
    elif action == "drop":
        del doc[key]
    elif action == "replace_nested" and isinstance(doc[key], dict) and doc[key]:
        inner = draw(st.sampled_from(sorted(doc[key])))
        doc[key] = {**doc[key], inner: draw(json_values)}
    topic_bench = bench if draw(st.integers(0, 9)) else draw(bench_ids)
    return RawMessage(f"benches/{topic_bench}/{kind}", json.dumps(doc).encode())


garbage_bytes = st.builds(RawMessage, any_topics, st.binary(max_size=200))
json_on_valid_topics = st.builds(RawMessage, valid_topics, json_values.map(lambda v: json.dumps(v).encode()))
messages = garbage_bytes | json_on_valid_topics | almost_valid()
batches = st.lists(messages, min_size=1, max_size=6)


#: Reasons of votes that decode but do not count: they depend on the polls in force (state), not the bytes.
VOTE_REASONS = (
    RejectReason.VOTE_UNKNOWN_POLL,
    RejectReason.VOTE_POLL_NOT_OPEN,
    RejectReason.VOTE_UNKNOWN_OPTION,
    RejectReason.POLL_NOT_OWNED,
)


def expected_rejections(batch: list[RawMessage]) -> tuple[int, int]:
    """The oracle: a message is accepted iff it decodes, comes from a bench and names a registered bench
    (the first number); the second is how many of the accepted are votes (each may still be refused)."""
    rejected = votes = 0
    for m in batch:
        try:
            decoded = decode(m.topic, m.payload)
        except Rejected:
            rejected += 1
            continue
        if decoded.topic.kind not in INBOUND_KINDS or decoded.topic.bench_id not in KNOWN:
            rejected += 1
        elif isinstance(decoded.message, VoteEvent):
            votes += 1
    return rejected, votes


@contextmanager
def one_pipeline() -> Iterator[Kit]:
    # One pipeline per test function: hypothesis runs every example against it (no function fixtures).
    database = PostgresDatabase()
    database.create()
    try:
        with tempfile.TemporaryDirectory() as folder, pipeline_kit(Path(folder), database.url, listen=True) as kit:
            kit.carry_polls()  # the sample poll is in force: valid votes count
            yield kit
    finally:
        database.drop()


def _check(kit: Kit, batch: list[RawMessage]) -> None:
    before_in, before_rejected = kit.messages_in(), kit.metrics.rejected_total()
    before_votes = sum(kit.rejected(r) for r in VOTE_REASONS)
    kit.pipeline.handle(batch)
    assert kit.messages_in() - before_in == len(batch)
    refused_votes = sum(kit.rejected(r) for r in VOTE_REASONS) - before_votes
    rejected, votes = expected_rejections(batch)
    assert kit.metrics.rejected_total() - before_rejected - refused_votes == rejected
    assert refused_votes <= votes


def test_arbitrary_bytes_on_arbitrary_topics_never_raise() -> None:
    with one_pipeline() as kit:

        @SETTINGS
        @given(st.lists(garbage_bytes, min_size=1, max_size=6))
        def run(batch: list[RawMessage]) -> None:
            _check(kit, batch)

        run()


def test_arbitrary_json_on_every_topic_kind_never_raises() -> None:
    with one_pipeline() as kit:

        @SETTINGS
        @given(st.lists(json_on_valid_topics, min_size=1, max_size=6))
        def run(batch: list[RawMessage]) -> None:
            _check(kit, batch)

        run()


def test_almost_valid_messages_are_accepted_or_counted() -> None:
    with one_pipeline() as kit:

        @SETTINGS
        @given(st.lists(almost_valid(), min_size=1, max_size=6))
        def run(batch: list[RawMessage]) -> None:
            _check(kit, batch)

        run()
        # The mix really did exercise the accepting paths too.
        assert any(t.telemetry is not None or t.reported is not None for t in kit.twins.list_twins())


def test_mixed_batches_keep_twins_consistent() -> None:
    with one_pipeline() as kit:

        @SETTINGS
        @given(batches)
        def run(batch: list[RawMessage]) -> None:
            _check(kit, batch)
            for twin in kit.twins.list_twins():
                assert twin.bench_id in KNOWN
                # Counted votes always equal what the vote table holds (votes counted exactly once).
            counted = kit.store.counted_votes_by_bench()
            assert {t.bench_id: t.counted_votes for t in kit.twins.list_twins() if t.counted_votes} == counted

        run()
