"""Decoding raw MQTT messages into contract models, with a rejection reason for everything else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import get_args

from pydantic import BaseModel, ValidationError

from twins.messages import (
    EVENT_ADAPTER,
    BenchEvent,
    Command,
    Desired,
    Reported,
    Status,
    Telemetry,
)
from twins.topics import BenchTopic, TopicError, TopicKind, parse_topic

MAX_PAYLOAD_BYTES = 64 * 1024

Message = Telemetry | BenchEvent | Reported | Status | Desired | Command


class RejectReason(StrEnum):
    """Why a message was not accepted (a label of the ``rejected`` metric)."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    INVALID_JSON = "invalid_json"
    NOT_OBJECT = "not_object"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID_PAYLOAD = "invalid_payload"
    BENCH_ID_MISMATCH = "bench_id_mismatch"
    UNKNOWN_BENCH = "unknown_bench"
    WRONG_DIRECTION = "wrong_direction"
    TS_IN_FUTURE = "ts_in_future"
    # A vote that does not count (twins.vote_rules, fleet ingestion): same labels as VoteRefusal.
    VOTE_UNKNOWN_POLL = "vote_unknown_poll"
    VOTE_POLL_NOT_OPEN = "vote_poll_not_open"
    VOTE_UNKNOWN_OPTION = "vote_unknown_option"
    POLL_NOT_OWNED = "poll_not_owned"


class Rejected(Exception):
    """A message that breaks the contract; ``reason`` is a metric label, ``detail`` names the field."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    """A message that passed decoding: where it came from and its model."""

    topic: BenchTopic
    message: Message
    payload: bytes = b""  # the bytes it was validated from: stored as they came, not serialised again


# The hot path calls pydantic-core's validators directly: one pass of Rust from bytes to a validated,
# frozen model (no json.loads first, no second walk over a dict), without the BaseModel wrapper's call.
_PARSERS: dict[TopicKind, Callable[[bytes], Message]] = {
    TopicKind.TELEMETRY: Telemetry.__pydantic_validator__.validate_json,
    TopicKind.EVENTS: EVENT_ADAPTER.validate_json,
    TopicKind.REPORTED: Reported.__pydantic_validator__.validate_json,
    TopicKind.STATUS: Status.__pydantic_validator__.validate_json,
    TopicKind.DESIRED: Desired.__pydantic_validator__.validate_json,
    TopicKind.CMD: Command.__pydantic_validator__.validate_json,
}

#: Topics seen before: a fleet publishes on a few topics per bench, so parsing each once is enough.
_TOPICS: dict[str, BenchTopic] = {}
_MAX_TOPICS = 100_000  # garbage with random topics must not grow the cache forever


def _topic(topic: str) -> BenchTopic:
    parsed = _TOPICS.get(topic)
    if parsed is None:
        try:
            parsed = parse_topic(topic)
        except TopicError as err:
            raise Rejected(RejectReason.BAD_TOPIC, str(err)) from err
        if len(_TOPICS) >= _MAX_TOPICS:
            _TOPICS.clear()
        _TOPICS[topic] = parsed
    return parsed


# pydantic error types that mean "this is not a JSON object at all", mapped to our reasons.
_SHAPE_ERRORS: dict[str, RejectReason] = {
    "json_invalid": RejectReason.INVALID_JSON,
    "json_type": RejectReason.INVALID_JSON,
    "model_type": RejectReason.NOT_OBJECT,
    "model_attributes_type": RejectReason.NOT_OBJECT,
    "dict_type": RejectReason.NOT_OBJECT,
}


def describe_errors(err: ValidationError, limit: int = 3) -> str:
    """Render pydantic errors as ``field.path: message`` pairs, the field named first."""
    parts = []
    for item in err.errors(include_url=False)[:limit]:
        loc = ".".join(str(p) for p in item["loc"]) or "(payload)"
        parts.append(f"{loc}: {item['msg']}")
    more = err.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


#: Discriminator tags pydantic puts first in the location of an event's errors.
_EVENT_TAGS: frozenset[str] = frozenset(
    str(get_args(model.model_fields["type"].annotation)[0]) for model in get_args(BenchEvent)
)


def _classify(err: ValidationError) -> RejectReason:
    first = err.errors(include_url=False)[0]
    loc = first["loc"]
    # Shape errors only count at the payload itself: a nested "battery": 5 is an invalid payload.
    shape = _SHAPE_ERRORS.get(first["type"]) if loc == () else None
    if first["type"] in ("json_invalid", "json_type"):
        shape = RejectReason.INVALID_JSON
    if shape is not None:
        return shape
    # Only the envelope's own "v" is the schema version (not e.g. a poll named "v" under votes).
    if loc == ("v",) or (len(loc) == 2 and loc[0] in _EVENT_TAGS and loc[1] == "v"):
        return RejectReason.UNSUPPORTED_VERSION
    return RejectReason.INVALID_PAYLOAD


def decode_payload(kind: TopicKind, payload: bytes) -> Message:
    """Validate ``payload`` as the model of topic ``kind``; raise Rejected naming the field."""
    if not payload:
        raise Rejected(RejectReason.EMPTY, "empty payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected(RejectReason.TOO_LARGE, f"payload of {len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        return _PARSERS[kind](payload)
    except ValidationError as err:
        raise Rejected(_classify(err), describe_errors(err)) from err


def decode(topic: str, payload: bytes) -> Decoded:
    """Parse the topic, validate the payload and check that its ``bench_id`` is the topic's."""
    parsed = _topic(topic)
    message = decode_payload(parsed.kind, payload)
    if message.bench_id != parsed.bench_id:
        raise Rejected(
            RejectReason.BENCH_ID_MISMATCH,
            f"bench_id {message.bench_id!r} in payload does not match topic bench {parsed.bench_id!r}",
        )
    return Decoded(parsed, message, payload)


#: How far ahead of the server's clock a bench's ``ts`` may be (NTP-less boards drift; more is a bad clock).
MAX_CLOCK_AHEAD = timedelta(minutes=5)


def check_not_future(message: Message, now: datetime, tolerance: timedelta = MAX_CLOCK_AHEAD) -> None:
    """Reject a message stamped further in the future than ``tolerance``: once applied, a sample from a
    bench whose clock jumped to 2099 would make every correct later sample look older and be ignored."""
    if message.ts - now > tolerance:
        raise Rejected(
            RejectReason.TS_IN_FUTURE,
            f"ts {message.ts.isoformat()} is {message.ts - now} ahead of the server clock (bench clock wrong?)",
        )


def encode(message: BaseModel) -> bytes:
    """Serialise a contract model to its wire form (JSON, ``Z`` timestamps, no nulls dropped)."""
    return message.model_dump_json().encode()
