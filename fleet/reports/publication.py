"""Which closed polls' results are public: published by their municipality or an admin, audit-logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from fleet.ops.audit import AuditLog
from fleet.reports.tables import published_polls
from twins.clock import Clock


@dataclass(frozen=True, slots=True)
class Publication:
    """One published poll: who published it and when."""

    poll_id: str
    published_by: str
    published_at: datetime


class Publications:
    """The ``published_polls`` table; every change is audit-logged in the same transaction."""

    def __init__(self, engine: Engine, clock: Clock, audit: AuditLog) -> None:
        self.engine = engine
        self._clock = clock
        self._audit = audit

    def all(self) -> dict[str, Publication]:
        """Every publication by poll id."""
        p = published_polls.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(p.poll_id, p.published_by, p.published_at)).all()
        return {r.poll_id: Publication(r.poll_id, r.published_by, r.published_at) for r in rows}

    def get(self, poll_id: str) -> Publication | None:
        """The publication of one poll, if published."""
        return self.all().get(poll_id)

    def publish(self, poll_id: str, actor: str) -> bool:
        """Publish a poll's results; False if it already was (nothing changes, nothing is logged)."""
        now = self._clock.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(published_polls.insert().values(poll_id=poll_id, published_by=actor, published_at=now))
                self._audit.record(actor, "poll.publish", poll_id, None, {"published": True}, conn=conn)
        except IntegrityError:
            return False
        return True

    def unpublish(self, poll_id: str, actor: str) -> bool:
        """Take a poll's results off the public pages; False if they were not published."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(published_polls).where(published_polls.c.poll_id == poll_id)).rowcount
            if gone:
                self._audit.record(actor, "poll.unpublish", poll_id, {"published": True}, None, conn=conn)
        return bool(gone)
