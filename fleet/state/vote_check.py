"""Which received votes count: the polls each bench has in force and who owns each poll, read in one go.

The polls in force are those of the bench's reported ``applied_config``. A bench that reports no applied
config (older firmware) but reports a desired version as applied is taken at its word for that version's
config (``desired_history``). A bench that reports neither has no polls: its votes are refused. The check
uses the config in force when the batch arrives (the fleet keeps no history of applied configs); the
vote's own time is checked against the poll's window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select, tuple_

from fleet.db.schema import desired_history, polls, twins
from twins.codec import RejectReason
from twins.config import BenchConfig, Poll
from twins.messages import Reported, VoteEvent
from twins.vote_rules import vote_refusal


@dataclass(frozen=True, slots=True)
class VoteContext:
    """The polls in force per bench and the owner of each poll id asked about (None: the fleet's)."""

    polls: dict[str, tuple[Poll, ...]]
    owners: dict[str, str | None]

    def refusal(self, vote: VoteEvent, municipality: str) -> RejectReason | None:
        """None if the vote counts; else why not."""
        data = vote.data
        why = vote_refusal(self.polls.get(vote.bench_id, ()), data.poll_id, data.option, vote.ts)
        if why is not None:
            return RejectReason(why.value)
        if data.poll_id in self.owners and self.owners[data.poll_id] not in (None, municipality):
            return RejectReason.POLL_NOT_OWNED
        return None


def read_vote_context(engine: Engine, bench_ids: Iterable[str], poll_ids: Iterable[str]) -> VoteContext:
    """The polls in force of ``bench_ids`` and the owners of ``poll_ids`` (one connection, up to 3 SELECTs)."""
    ids = sorted(set(bench_ids))
    in_force: dict[str, tuple[Poll, ...]] = {}
    fallback: dict[str, int] = {}
    with engine.connect() as conn:
        for bench_id, text in conn.execute(select(twins.c.bench_id, twins.c.reported).where(twins.c.bench_id.in_(ids))):
            doc = Reported.model_validate_json(text) if text else None
            if doc is None:
                continue
            if doc.applied_config is not None:
                in_force[bench_id] = tuple(doc.applied_config.polls)
            elif doc.config is not None and doc.config.status == "applied":
                fallback[bench_id] = doc.config.version
        if fallback:
            h = desired_history.c
            wanted = tuple_(h.bench_id, h.version).in_(list(fallback.items()))
            for bench_id, config in conn.execute(select(h.bench_id, h.config).where(wanted)):
                in_force[bench_id] = tuple(BenchConfig.model_validate_json(config).polls)
        owners = {
            row.poll_id: row.owner
            for row in conn.execute(
                select(polls.c.poll_id, polls.c.owner).where(polls.c.poll_id.in_(sorted(set(poll_ids))))
            )
        }
    return VoteContext(in_force, owners)
