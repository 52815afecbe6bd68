"""Recording citizens' votes: checked against the open polls, stored as ``vote`` events in the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from twins.clock import Clock
from twins.codec import encode
from twins.config import BenchConfig, Poll

from .outbox.base import Outbox
from .wire import vote_event


class VoteRefused(Exception):
    """A vote that cannot be recorded; ``code`` is stable for the kiosk page, the message explains."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CastVote:
    """A recorded vote: the event id the fleet counts it by."""

    event_id: UUID
    poll_id: str
    option: str


class VoteBox:
    """Thread-safe (the kiosk's request threads call it): reads an immutable config, writes the outbox."""

    def __init__(self, bench_id: str, clock: Clock, outbox: Outbox, config: Callable[[], BenchConfig]) -> None:
        self.bench_id = bench_id
        self.clock = clock
        self.outbox = outbox
        self._config = config

    def config(self) -> BenchConfig:
        """The bench's configuration in force."""
        return self._config()

    def open_polls(self) -> list[Poll]:
        """Polls accepting votes now."""
        now = self.clock.now()
        return [p for p in self._config().polls if p.is_open(now)]

    def cast(self, poll_id: str, option: str) -> CastVote:
        """Record one vote durably (event + tally in one transaction) or raise VoteRefused."""
        now = self.clock.now()
        poll = self._config().poll(poll_id)
        if poll is None:
            raise VoteRefused("unknown_poll", f"no poll {poll_id!r} on this bench")
        if not poll.is_open(now):
            raise VoteRefused("poll_closed", f"poll {poll_id!r} is not open")
        if option not in {o.id for o in poll.options}:
            raise VoteRefused("unknown_option", f"poll {poll_id!r} has no option {option!r}")
        event = vote_event(self.bench_id, now, poll_id, option)
        self.outbox.put_vote(encode(event), poll_id, option, now.timestamp())
        return CastVote(event.id, poll_id, option)
