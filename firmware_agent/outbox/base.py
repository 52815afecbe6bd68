"""The outbox contract: durable store-and-forward of telemetry and events until the broker acknowledges."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from twins.messages import VoteCounts
from twins.topics import TopicKind


class OutboxError(RuntimeError):
    """The outbox could not store or read (disk full, database damaged); the message says why."""


class Category(StrEnum):
    """What a stored message is, which decides what may be thinned when the outbox is full."""

    TELEMETRY = "telemetry"
    VOTE = "vote"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One stored message, oldest first by ``row_id``."""

    row_id: int
    kind: TopicKind
    category: Category
    created_s: float
    payload: bytes


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Counters for health reporting."""

    stored: int
    thinned: int
    dropped: int


class Outbox(Protocol):
    """Durable FIFO of messages to publish; a message leaves only on ``ack``. Votes are never dropped."""

    def put(self, kind: TopicKind, category: Category, payload: bytes, created_s: float) -> int:
        """Store a message durably and return its row id; may thin old telemetry when full."""
        ...

    def put_vote(self, payload: bytes, poll_id: str, option: str, created_s: float) -> int:
        """Store a vote event and count it in the bench's tally, both in one transaction."""
        ...

    def pending(self, after_row_id: int, limit: int) -> list[OutboxEntry]:
        """Up to ``limit`` stored messages with a row id above ``after_row_id``, oldest first."""
        ...

    def ack(self, row_id: int) -> None:
        """Forget a message the broker acknowledged (a no-op if it is gone already)."""
        ...

    def count(self) -> int:
        """Messages waiting."""
        ...

    def vote_counts(self) -> VoteCounts:
        """Cumulative votes cast on this bench, per poll and option."""
        ...

    def stats(self) -> OutboxStats:
        """Counters: stored now, thinned and dropped since start."""
        ...
