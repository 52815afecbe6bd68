"""Simulated history's bench events stored as ingestion stores them: votes counted in SQL, points in the TSDB.

Votes go through ``insert_votes`` in one transaction per chunk (an id counted before is skipped, so a rerun
of the same backfill counts nothing twice) and only the newly counted ones get their ``vote`` point; other
events (port sessions) become ``event`` points, exactly as ``IngestPipeline`` makes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from fleet.ingest.pipeline import PointSink
from fleet.state.votes import UNLIMITED, insert_votes
from fleet.state.writes import VoteRow
from twins.clock import Clock
from twins.messages import BenchEvent, VoteEvent
from twins.series import SeriesPoint, event_point, vote_point

VOTES_PER_TRANSACTION = 5_000  # bounds one statement's size; each chunk is still all-or-nothing


@dataclass
class HistoryEventWriter:
    """Stores a bench's historic events: ``write(municipality, events)`` (the backfill's ``write_events``)."""

    engine: Engine
    sink: PointSink
    clock: Clock
    votes_counted: int = 0
    votes_duplicate: int = 0

    def write(self, municipality: str, events: Sequence[BenchEvent]) -> None:
        """Count the votes (new ids only) and write the points of the events and of the new votes."""
        points: list[SeriesPoint] = []
        rows: list[VoteRow] = []
        for event in events:
            if isinstance(event, VoteEvent):
                rows.append(VoteRow(event, municipality))
            else:
                points.append(event_point(event, municipality))
        for lo in range(0, len(rows), VOTES_PER_TRANSACTION):
            chunk = rows[lo : lo + VOTES_PER_TRANSACTION]
            with self.engine.begin() as conn:
                new = insert_votes(conn, chunk, self.clock.now(), UNLIMITED).counted  # not a bench's arrival rate
            self.votes_counted += len(new)
            self.votes_duplicate += len(chunk) - len(new)
            points.extend(vote_point(row.event, row.municipality) for row in new)
        if points:
            self.sink.write(points)
