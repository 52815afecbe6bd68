"""Bench topics: parsing and building ``benches/{id}/{kind}`` exactly as the contract says."""

from __future__ import annotations

import pytest

from twins.ids import is_bench_id, require_bench_id
from twins.topics import (
    INBOUND_KINDS,
    OUTBOUND_KINDS,
    RETAINED,
    BenchTopic,
    TopicError,
    TopicKind,
    inbound_filters,
    parse_topic,
    topic_for,
)


@pytest.mark.parametrize("kind", list(TopicKind))
def test_build_and_parse_round_trip(kind: TopicKind) -> None:
    topic = topic_for("mostar-01", kind)
    assert topic == f"benches/mostar-01/{kind.value}"
    parsed = parse_topic(topic)
    assert parsed == BenchTopic("mostar-01", kind)
    assert str(parsed) == topic


def test_contract_kinds_directions_and_retain_flags() -> None:
    assert {k.value for k in TopicKind} == {"telemetry", "events", "reported", "status", "desired", "cmd"}
    assert {k.value for k in INBOUND_KINDS} == {"telemetry", "events", "reported", "status"}
    assert {k.value for k in OUTBOUND_KINDS} == {"desired", "cmd"}
    assert {k.value for k in RETAINED} == {"reported", "status", "desired"}


@pytest.mark.parametrize(
    ("topic", "needle"),
    [
        ("benches/mostar-01", "not of the form"),
        ("benches/mostar-01/telemetry/extra", "not of the form"),
        ("bench/mostar-01/telemetry", "not of the form"),
        ("/benches/mostar-01/telemetry", "not of the form"),
        ("", "not of the form"),
        ("benches/Mostar-01/telemetry", "invalid bench id"),
        ("benches/ab/telemetry", "invalid bench id"),
        ("benches/-mostar/telemetry", "invalid bench id"),
        ("benches/+/telemetry", "invalid bench id"),
        ("benches//telemetry", "invalid bench id"),
        ("benches/mostar-01/Telemetry", "unknown kind"),
        ("benches/mostar-01/votes", "unknown kind"),
        ("benches/mostar-01/", "unknown kind"),
    ],
)
def test_bad_topics_are_rejected_naming_the_problem(topic: str, needle: str) -> None:
    with pytest.raises(TopicError, match=needle):
        parse_topic(topic)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("mostar-01", True),
        ("abc", True),
        ("0ab", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("ab", False),
        ("-ab", False),
        ("ab_c", False),
        ("Abc", False),
        ("abc\n", False),
        ("mostar 01", False),
    ],
)
def test_bench_id_rule(value: str, ok: bool) -> None:
    assert is_bench_id(value) is ok
    if ok:
        assert require_bench_id(value) == value
    else:
        with pytest.raises(ValueError, match="invalid bench id"):
            require_bench_id(value)


def test_inbound_filters_plain_and_shared() -> None:
    plain = inbound_filters()
    assert sorted(plain) == sorted(f"benches/+/{k}" for k in ("telemetry", "events", "reported", "status"))
    shared = inbound_filters("ingest")
    assert sorted(shared) == sorted(f"$share/ingest/{f}" for f in plain)
