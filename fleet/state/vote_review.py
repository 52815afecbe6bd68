"""Suspect votes (held for an implausible rate): listing them and a reviewer's accept or reject."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, func, select, update

from fleet.db.schema import benches, vote_events
from fleet.ops.audit import AuditLog
from fleet.state.rows import aware
from fleet.state.votes import COUNTED, DISCARDED, SUSPECT, add_counts, add_suspect

Decision = Literal["accept", "reject"]


@dataclass(frozen=True, slots=True)
class SuspectGroup:
    """The held votes of one bench for one poll."""

    bench_id: str
    municipality: str
    poll_id: str
    votes: int
    first_received: datetime
    last_received: datetime

    def as_doc(self) -> dict[str, object]:
        """JSON form for the API."""
        return {
            "bench_id": self.bench_id,
            "municipality": self.municipality,
            "poll_id": self.poll_id,
            "votes": self.votes,
            "first_received": self.first_received.isoformat(),
            "last_received": self.last_received.isoformat(),
        }


def list_suspect(engine: Engine, municipalities: frozenset[str] | None = None) -> list[SuspectGroup]:
    """Held votes per bench and poll (of ``municipalities``, or all), ordered by bench and poll."""
    e = vote_events.c
    q = (
        select(
            e.bench_id,
            benches.c.municipality,
            e.poll_id,
            func.count(),
            func.min(e.received_at),
            func.max(e.received_at),
        )
        .join(benches, benches.c.bench_id == e.bench_id)
        .where(e.status == SUSPECT)
        .group_by(e.bench_id, benches.c.municipality, e.poll_id)
        .order_by(e.bench_id, e.poll_id)
    )
    if municipalities is not None:
        q = q.where(benches.c.municipality.in_(sorted(municipalities)))
    with engine.connect() as conn:
        return [
            SuspectGroup(b, m, p, int(n), aware(lo) or lo, aware(hi) or hi) for b, m, p, n, lo, hi in conn.execute(q)
        ]


def review_suspect(
    engine: Engine, bench_id: str, poll_id: str, decision: Decision, audit: AuditLog | None = None, actor: str = "?"
) -> int:
    """Accept (count them) or reject (discard them, kept for the record) the held votes of a bench for a
    poll, in one transaction; returns how many were moved (0 when a concurrent review already did)."""
    e = vote_events.c
    status = COUNTED if decision == "accept" else DISCARDED
    with engine.begin() as conn:
        stmt = (
            update(vote_events)
            .where(e.bench_id == bench_id, e.poll_id == poll_id, e.status == SUSPECT)
            .values(status=status)
            .returning(e.option)
        )
        options = [row[0] for row in conn.execute(stmt)]
        if decision == "accept":
            add_counts(conn, Counter((bench_id, poll_id, option) for option in options))
        add_suspect(conn, Counter({bench_id: -len(options)}))
        if audit is not None:
            after = {"decision": decision, "votes": len(options)}
            audit.record(actor, f"votes.{decision}", f"{bench_id}/{poll_id}", None, after, bench_id=bench_id, conn=conn)
    return len(options)
