"""Which votes count: the one rule for the kiosk (before recording) and the fleet (before counting).

A vote counts only for a poll the bench carries, while that poll is open, for one of its options.
Everything else has a reason, a stable metric label. Pure: the caller hands in the polls the bench had
in force (its applied configuration at the vote's time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum

from twins.config import Poll


class VoteRefusal(StrEnum):
    """Why a vote does not count (a metric label)."""

    UNKNOWN_POLL = "vote_unknown_poll"
    POLL_NOT_OPEN = "vote_poll_not_open"
    UNKNOWN_OPTION = "vote_unknown_option"


#: The checks in order: the first one that fails names the refusal.
_CHECKS: tuple[tuple[VoteRefusal, Callable[[Poll, datetime, str], bool]], ...] = (
    (VoteRefusal.POLL_NOT_OPEN, lambda poll, at, _option: poll.is_open(at)),
    (VoteRefusal.UNKNOWN_OPTION, lambda poll, _at, option: option in {o.id for o in poll.options}),
)


def vote_refusal(polls: Iterable[Poll], poll_id: str, option: str, at: datetime) -> VoteRefusal | None:
    """None if a vote for ``option`` of ``poll_id`` cast ``at`` counts given the bench's ``polls``; else why not."""
    poll = next((p for p in polls if p.id == poll_id), None)
    if poll is None:
        return VoteRefusal.UNKNOWN_POLL
    return next((refusal for refusal, ok in _CHECKS if not ok(poll, at, option)), None)
