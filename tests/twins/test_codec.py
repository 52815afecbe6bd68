"""Decoding raw MQTT messages: each way a message can break the contract has its reason and names the field."""

from __future__ import annotations

import json

import pytest

from tests.twins.samples import (
    EVENT_DATA,
    cmd_doc,
    desired_doc,
    event_doc,
    payload,
    reported_doc,
    status_doc,
    telemetry_doc,
)
from twins.codec import MAX_PAYLOAD_BYTES, Rejected, RejectReason, decode, decode_payload, encode
from twins.messages import Status, Telemetry, VoteEvent
from twins.topics import TopicKind

TELEMETRY = "benches/mostar-01/telemetry"

#: A message for every reason decode() itself gives (UNKNOWN_BENCH and WRONG_DIRECTION need the
#: registry and are the pipeline's: see tests/fleet/test_pipeline.py, which covers every reason).
DECODE_CASES: dict[RejectReason, tuple[str, bytes, str]] = {
    RejectReason.BAD_TOPIC: ("benches/mostar-01/telemetry/x", payload(telemetry_doc()), "not of the form"),
    RejectReason.TOO_LARGE: (TELEMETRY, b" " * (MAX_PAYLOAD_BYTES + 1), "bytes"),
    RejectReason.EMPTY: (TELEMETRY, b"", "empty"),
    RejectReason.INVALID_JSON: (TELEMETRY, b"{not json", "Invalid JSON"),
    RejectReason.NOT_OBJECT: (TELEMETRY, b"[1, 2]", "object"),
    RejectReason.UNSUPPORTED_VERSION: (TELEMETRY, payload(telemetry_doc(v=2)), "v:"),
    RejectReason.INVALID_PAYLOAD: (TELEMETRY, payload(telemetry_doc(wifi={"clients": "7"})), "wifi.clients:"),
    RejectReason.BENCH_ID_MISMATCH: (TELEMETRY, payload(telemetry_doc(bench_id="trebinje-01")), "trebinje-01"),
}


@pytest.mark.parametrize("reason", list(DECODE_CASES))
def test_each_decode_reason_is_reachable(reason: RejectReason) -> None:
    topic, raw, needle = DECODE_CASES[reason]
    with pytest.raises(Rejected) as info:
        decode(topic, raw)
    assert info.value.reason is reason
    assert needle in info.value.detail
    assert str(info.value).startswith(f"{reason.value}: ")


def test_every_reason_is_a_distinct_metric_label() -> None:
    labels = [r.value for r in RejectReason]
    assert len(set(labels)) == len(labels)
    checked_elsewhere = {
        RejectReason.UNKNOWN_BENCH,
        RejectReason.WRONG_DIRECTION,
        RejectReason.TS_IN_FUTURE,
        # votes that decode but do not count (tests/fleet/test_pipeline.py)
        RejectReason.VOTE_UNKNOWN_POLL,
        RejectReason.VOTE_POLL_NOT_OPEN,
        RejectReason.VOTE_UNKNOWN_OPTION,
        RejectReason.POLL_NOT_OWNED,
    }
    assert set(DECODE_CASES) | checked_elsewhere == set(RejectReason)


def test_future_timestamp_is_rejected_beyond_the_tolerance() -> None:
    from datetime import timedelta

    from twins.codec import MAX_CLOCK_AHEAD, check_not_future

    decoded = decode("benches/mostar-01/telemetry", json.dumps(telemetry_doc()).encode())
    check_not_future(decoded.message, decoded.message.ts - MAX_CLOCK_AHEAD)  # exactly at the limit: fine
    with pytest.raises(Rejected) as info:
        check_not_future(decoded.message, decoded.message.ts - MAX_CLOCK_AHEAD - timedelta(seconds=1))
    assert info.value.reason is RejectReason.TS_IN_FUTURE
    assert "ahead of the server clock" in info.value.detail


def test_accepted_telemetry_carries_topic_and_model() -> None:
    decoded = decode(TELEMETRY, payload(telemetry_doc(seq=7)))
    assert decoded.topic.bench_id == "mostar-01"
    assert decoded.topic.kind is TopicKind.TELEMETRY
    assert isinstance(decoded.message, Telemetry)
    assert decoded.message.seq == 7


@pytest.mark.parametrize("kind", list(EVENT_DATA))
def test_events_decode_by_type(kind: str) -> None:
    decoded = decode("benches/mostar-01/events", payload(event_doc(kind, EVENT_DATA[kind])))
    assert decoded.message.type == kind  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "doc"),
    [
        ("telemetry", telemetry_doc(bench_id="trebinje-01")),
        ("events", event_doc("vote", EVENT_DATA["vote"], bench_id="trebinje-01")),
        ("reported", reported_doc(bench_id="trebinje-01")),
        ("status", status_doc(False, bench_id="trebinje-01")),
        ("desired", desired_doc(bench_id="trebinje-01")),
        ("cmd", cmd_doc(bench_id="trebinje-01")),
    ],
)
def test_bench_id_must_equal_the_topics_on_every_kind(kind: str, doc: dict[str, object]) -> None:
    with pytest.raises(Rejected) as info:
        decode(f"benches/mostar-01/{kind}", payload(doc))
    assert info.value.reason is RejectReason.BENCH_ID_MISMATCH
    assert "mostar-01" in info.value.detail
    assert "trebinje-01" in info.value.detail


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe\x00", RejectReason.INVALID_JSON),
        (b"[" * 5000 + b"]" * 5000, RejectReason.INVALID_JSON),
        (b"null", RejectReason.NOT_OBJECT),
        (b"42", RejectReason.NOT_OBJECT),
        (b'"text"', RejectReason.NOT_OBJECT),
        (b"{}", RejectReason.UNSUPPORTED_VERSION),
        (b" ", RejectReason.INVALID_JSON),
    ],
)
def test_garbage_payloads(raw: bytes, reason: RejectReason) -> None:
    for kind in TopicKind:
        with pytest.raises(Rejected) as info:
            decode_payload(kind, raw)
        if kind is TopicKind.EVENTS and reason is RejectReason.UNSUPPORTED_VERSION:
            # An event without "type" cannot be told apart before anything else.
            assert info.value.reason is RejectReason.INVALID_PAYLOAD
        else:
            assert info.value.reason is reason, kind


def test_nested_shape_errors_are_invalid_payloads_not_whole_payload_errors() -> None:
    # A section that is not an object, or a poll named "v", is a bad field, not a bad payload or version.
    for doc in (telemetry_doc(battery=5), telemetry_doc(votes={"v": "x"}), telemetry_doc(votes={"v": {"yes": "1"}})):
        with pytest.raises(Rejected) as info:
            decode(TELEMETRY, payload(doc))
        assert info.value.reason is RejectReason.INVALID_PAYLOAD, info.value.detail


def test_event_version_errors_are_unsupported_version() -> None:
    doc = event_doc("vote", EVENT_DATA["vote"]) | {"v": 2}
    with pytest.raises(Rejected) as info:
        decode("benches/mostar-01/events", payload(doc))
    assert info.value.reason is RejectReason.UNSUPPORTED_VERSION
    assert "vote.v" in info.value.detail


def test_payload_at_the_size_limit_is_still_parsed() -> None:
    doc = status_doc(True, reason="")
    raw = payload(doc)
    padded = raw[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(raw)) + b"}"
    assert len(padded) == MAX_PAYLOAD_BYTES
    assert isinstance(decode("benches/mostar-01/status", padded).message, Status)


def test_rejection_detail_names_the_field() -> None:
    doc = telemetry_doc()
    doc["battery"]["soc_pct"] = "81.2"
    with pytest.raises(Rejected) as info:
        decode(TELEMETRY, payload(doc))
    assert info.value.detail.startswith("battery.soc_pct: ")


def test_encode_round_trips_with_z_timestamps() -> None:
    vote = decode("benches/mostar-01/events", payload(event_doc("vote", EVENT_DATA["vote"]))).message
    assert isinstance(vote, VoteEvent)
    wire = encode(vote)
    assert json.loads(wire)["ts"] == "2026-11-26T10:00:00.000Z"
    assert decode("benches/mostar-01/events", wire).message == vote


def test_a_topic_seen_before_decodes_the_same_and_a_bad_one_is_rejected_every_time() -> None:
    first = decode(TELEMETRY, payload(telemetry_doc(seq=1)))
    second = decode(TELEMETRY, payload(telemetry_doc(seq=2)))
    assert second.topic == first.topic
    assert (second.message.seq, first.message.seq) == (2, 1)  # type: ignore[union-attr]
    for _ in range(2):  # a rejected topic is never cached as if it were good
        with pytest.raises(Rejected) as info:
            decode("benches/Mostar-01/telemetry", payload(telemetry_doc()))
        assert info.value.reason is RejectReason.BAD_TOPIC


def test_the_topic_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import twins.codec as codec

    monkeypatch.setattr(codec, "_MAX_TOPICS", 3)
    monkeypatch.setattr(codec, "_TOPICS", {})
    for i in range(10):
        bench = f"bench-{i:02d}"
        assert decode(f"benches/{bench}/status", payload(status_doc(True, bench_id=bench))).topic.bench_id == bench
        assert len(codec._TOPICS) <= 3


@pytest.mark.parametrize(
    ("kind", "doc", "model"),
    [
        ("telemetry", telemetry_doc(), "Telemetry"),
        ("reported", reported_doc(), "Reported"),
        ("status", status_doc(True), "Status"),
        ("desired", desired_doc(), "Desired"),
        ("cmd", cmd_doc(), "Command"),
    ],
)
def test_every_kind_decodes_to_its_frozen_model(kind: str, doc: dict[str, object], model: str) -> None:
    message = decode(f"benches/mostar-01/{kind}", payload(doc)).message
    assert type(message).__name__ == model
    with pytest.raises(ValueError, match="frozen"):
        message.bench_id = "other-01"  # type: ignore[misc]


def test_the_event_union_has_one_name_and_covers_every_event_type() -> None:
    from typing import get_args

    import twins.codec as codec
    from twins.messages import BenchEvent

    assert not hasattr(codec, "AnyEvent")
    types = {model.model_fields["type"].annotation.__args__[0] for model in get_args(BenchEvent)}
    assert types == set(EVENT_DATA)
    for kind in EVENT_DATA:
        message = decode("benches/mostar-01/events", payload(event_doc(kind, EVENT_DATA[kind]))).message
        assert isinstance(message, get_args(BenchEvent))


def test_an_unknown_event_type_names_the_discriminator() -> None:
    with pytest.raises(Rejected) as info:
        decode("benches/mostar-01/events", payload(event_doc("vote", EVENT_DATA["vote"]) | {"type": "dance"}))
    assert info.value.reason is RejectReason.INVALID_PAYLOAD
    assert "dance" in info.value.detail
