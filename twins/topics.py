"""MQTT topics of the contract: parsing and building ``benches/{id}/{kind}``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twins.ids import is_bench_id

ROOT = "benches"


class TopicKind(StrEnum):
    """The last level of a bench topic."""

    TELEMETRY = "telemetry"
    EVENTS = "events"
    REPORTED = "reported"
    STATUS = "status"
    DESIRED = "desired"
    CMD = "cmd"


#: Topics a bench publishes and the fleet ingests.
INBOUND_KINDS: frozenset[TopicKind] = frozenset(
    {TopicKind.TELEMETRY, TopicKind.EVENTS, TopicKind.REPORTED, TopicKind.STATUS}
)
#: Topics the fleet publishes and a bench subscribes to.
OUTBOUND_KINDS: frozenset[TopicKind] = frozenset({TopicKind.DESIRED, TopicKind.CMD})
#: Which topics are published retained (contract section 2).
RETAINED: frozenset[TopicKind] = frozenset({TopicKind.REPORTED, TopicKind.STATUS, TopicKind.DESIRED})
QOS = 1


@dataclass(frozen=True, slots=True)
class BenchTopic:
    """A parsed bench topic."""

    bench_id: str
    kind: TopicKind

    def __str__(self) -> str:
        return topic_for(self.bench_id, self.kind)


class TopicError(ValueError):
    """A topic that is not ``benches/{id}/{kind}`` with a valid id and kind."""


_KINDS = {k.value: k for k in TopicKind}


def topic_for(bench_id: str, kind: TopicKind) -> str:
    """Build the topic for one bench and kind."""
    return f"{ROOT}/{bench_id}/{kind.value}"


def parse_topic(topic: str) -> BenchTopic:
    """Parse ``benches/{id}/{kind}``; raise TopicError naming what is wrong."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != ROOT:
        raise TopicError(f"topic {topic!r} is not of the form {ROOT}/{{id}}/{{kind}}")
    _, bench_id, kind_text = parts
    if not is_bench_id(bench_id):
        raise TopicError(f"topic {topic!r} has an invalid bench id")
    kind = _KINDS.get(kind_text)
    if kind is None:
        raise TopicError(f"topic {topic!r} has an unknown kind {kind_text!r}")
    return BenchTopic(bench_id, kind)


def inbound_filters(share_group: str | None = None) -> list[str]:
    """Subscription filters for ingestion, optionally as MQTT shared subscriptions."""
    filters = [f"{ROOT}/+/{kind.value}" for kind in sorted(INBOUND_KINDS)]
    if share_group:
        return [f"$share/{share_group}/{f}" for f in filters]
    return filters
