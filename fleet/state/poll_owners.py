"""Who owns a poll id (``polls`` table): claimed on first use, an id already in use adopted by its users.

A municipality's poll id is its own: no other town may create, change or vote into it. An admin may give
an id to the whole fleet (owner NULL). An id that is unclaimed but already used (configured on benches or
voted into, before this table existed or set by a tool that bypasses the dashboards) goes to the town that
uses it, or to the fleet when several do, not to whoever claims it first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, or_, select

from fleet.db.schema import benches, polls, twins, vote_events
from fleet.state.votes import dialect_insert


def adopted_owner(users: set[str], claimer: str | None) -> str | None:
    """The owner of an unclaimed id: the claimer if nobody else uses it, else its one user, else the fleet."""
    if not users or users == {claimer}:
        return claimer
    return next(iter(users)) if len(users) == 1 else None


def poll_users(engine: Engine, poll_ids: list[str]) -> dict[str, set[str]]:
    """Municipalities that configured (desired config) or voted into each of ``poll_ids``."""
    users: dict[str, set[str]] = {p: set() for p in poll_ids}
    e = vote_events.c
    voted = select(e.poll_id, e.municipality).where(e.poll_id.in_(poll_ids)).distinct()
    # A text filter first (claims are rare, configs many): only candidate rows are parsed.
    mentions = or_(*(twins.c.desired.contains(json.dumps(p)) for p in poll_ids))
    configured = (
        select(benches.c.municipality, twins.c.desired)
        .select_from(twins.join(benches, benches.c.bench_id == twins.c.bench_id))
        .where(mentions)
    )
    with engine.connect() as conn:
        for poll_id, municipality in conn.execute(voted):
            users[poll_id].add(municipality)
        for municipality, desired in conn.execute(configured):
            for poll in json.loads(desired).get("polls", []):
                if poll.get("id") in users:
                    users[poll["id"]].add(municipality)
    return users


def claim_polls(
    engine: Engine, poll_ids: Iterable[str], claimer: str | None, actor: str, now: datetime
) -> dict[str, str | None]:
    """Claim the unclaimed ``poll_ids`` for ``claimer`` (None: the fleet), or for their users (adopted_owner);
    returns every id's owner afterwards (a concurrent claim: the first committed wins)."""
    wanted = sorted(set(poll_ids))
    if not wanted:
        return {}
    q = select(polls.c.poll_id, polls.c.owner).where(polls.c.poll_id.in_(wanted))
    with engine.connect() as conn:
        known = {row.poll_id for row in conn.execute(q)}
    fresh = [p for p in wanted if p not in known]
    if fresh:
        users = poll_users(engine, fresh)
        rows = [
            {"poll_id": p, "owner": adopted_owner(users[p], claimer), "created_by": actor, "created_at": now}
            for p in fresh
        ]
        with engine.begin() as conn:
            conn.execute(dialect_insert(conn, polls).on_conflict_do_nothing(index_elements=["poll_id"]), rows)
    with engine.connect() as conn:
        return {row.poll_id: row.owner for row in conn.execute(q)}
