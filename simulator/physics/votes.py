"""Kiosk votes: which open polls a visitor answers, and with which option, from the visitor's planned draws.

Stepping (``BenchModel``) and the vectorised history (``backfill``) both cast votes with ``visitor_votes``,
so a visitor of a day plan votes alike in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.physics.loads import MAX_POLLS_PER_VISITOR, pick_option


@dataclass(frozen=True)
class PollSpec:
    """An open poll as the bench sees it: its id and option ids."""

    poll_id: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class VoteDraw:
    """One vote cast at the kiosk."""

    poll_id: str
    option: str
    t_s: float


def visitor_votes(
    t_s: float, draws: Sequence[float], polls: Sequence[PollSpec], vote_probability: float
) -> list[VoteDraw]:
    """The votes of one visitor at ``t_s``: poll j is answered when ``draws[j]`` < the probability.

    ``draws`` holds 2 × MAX_POLLS_PER_VISITOR uniforms (whether to answer poll j, then which option);
    polls past the first MAX_POLLS_PER_VISITOR are not answered.
    """
    votes: list[VoteDraw] = []
    for j, poll in enumerate(polls[:MAX_POLLS_PER_VISITOR]):
        if draws[j] < vote_probability:
            option = pick_option(poll.poll_id, poll.options, draws[MAX_POLLS_PER_VISITOR + j])
            votes.append(VoteDraw(poll.poll_id, option, t_s))
    return votes
