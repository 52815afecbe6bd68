"""An in-memory outbox for simulated benches: no file per bench, so 10,000 benches stay far below ``ulimit -n``.

Same contract as ``firmware_agent.outbox.sqlite.SqliteOutbox`` (FIFO by row id, a message leaves only on
``ack``, votes never dropped, bounded with telemetry dropped first) except durability: a simulated bench
that "loses power" is a process exit, and the demo keeps its outboxes in a shared SQLite file instead.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

from firmware_agent.outbox.base import Category, OutboxEntry, OutboxStats
from twins.messages import VoteCounts
from twins.topics import TopicKind


class MemoryOutbox:
    """One bench's outbox in a dict; implements ``firmware_agent.outbox.base.Outbox``."""

    __slots__ = ("_dropped", "_ids", "_rows", "_tally", "max_messages")

    def __init__(self, max_messages: int = 20_000) -> None:
        self.max_messages = max_messages
        self._rows: OrderedDict[int, OutboxEntry] = OrderedDict()
        self._ids = itertools.count(1)
        self._tally: dict[str, dict[str, int]] = {}
        self._dropped = 0

    def put(self, kind: TopicKind, category: Category, payload: bytes, created_s: float) -> int:
        """Store a message; when full, drop the oldest telemetry (then the oldest non-vote event)."""
        row_id = next(self._ids)
        self._rows[row_id] = OutboxEntry(row_id, kind, category, created_s, payload)
        if len(self._rows) > self.max_messages:
            self._make_room()
        return row_id

    def _make_room(self) -> None:
        for category in (Category.TELEMETRY, Category.EVENT):
            victim = next((r for r, e in self._rows.items() if e.category is category), None)
            if victim is not None:
                del self._rows[victim]
                self._dropped += 1
                return

    def put_vote(self, payload: bytes, poll_id: str, option: str, created_s: float) -> int:
        """Store a vote event and count it."""
        row_id = self.put(TopicKind.EVENTS, Category.VOTE, payload, created_s)
        options = self._tally.setdefault(poll_id, {})
        options[option] = options.get(option, 0) + 1
        return row_id

    def pending(self, after_row_id: int, limit: int) -> list[OutboxEntry]:
        """Up to ``limit`` messages after ``after_row_id``, oldest first."""
        out: list[OutboxEntry] = []
        for row_id, entry in self._rows.items():
            if row_id > after_row_id:
                out.append(entry)
                if len(out) >= limit:
                    break
        return out

    def ack(self, row_id: int) -> None:
        """Forget an acknowledged message."""
        self._rows.pop(row_id, None)

    def count(self) -> int:
        """Messages waiting."""
        return len(self._rows)

    def add_to_tally(self, counts: VoteCounts) -> None:
        """Add votes cast before this outbox kept the tally (the bench's simulated history), without events."""
        for poll_id, options in counts.items():
            held = self._tally.setdefault(poll_id, {})
            for option, votes in options.items():
                held[option] = held.get(option, 0) + votes

    def vote_counts(self) -> VoteCounts:
        """Cumulative votes per poll and option."""
        return {poll: dict(options) for poll, options in self._tally.items()}

    def stats(self) -> OutboxStats:
        """Stored now, thinned (never: this outbox drops instead) and dropped."""
        return OutboxStats(stored=len(self._rows), thinned=0, dropped=self._dropped)
