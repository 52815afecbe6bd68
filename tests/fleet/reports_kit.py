"""A fleet with a month of simulated history for the report tests: PostgreSQL twins and votes, SQLite TSDB."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from fleet.db.engine import make_engine
from fleet.db.store import SqlStore
from fleet.registry import default_fleet
from fleet.state.desired import DesiredVersions
from fleet.state.twin_store import TwinStore
from fleet.state.writes import VoteRow
from fleet.tsdb import open_tsdb
from fleet.tsdb.base import TimeSeriesStore
from simulator.backfill_run import run_backfill
from simulator.sites import seed_sites
from twins.messages import VoteEvent
from twins.series import SeriesPoint

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
#: Two municipalities of the two entities: Mostar (Federation, bs) and Trebinje (Republika Srpska, sr-Cyrl).
BENCHES = ("mostar-01", "trebinje-01")


def labels(bs: str, hr: str, sr: str, en: str) -> dict[str, str]:
    """Kiosk labels in its four languages."""
    return {"bs": bs, "hr": hr, "sr": sr, "en": en}


def poll(poll_id: str, question: dict[str, str], opens: datetime, closes: datetime) -> dict[str, object]:
    """A two-answer poll of the desired config."""
    return {
        "id": poll_id,
        "question": question,
        "options": [
            {"id": "yes", "labels": labels("Da", "Da", "Da", "Yes")},
            {"id": "no", "labels": labels("Ne", "Ne", "Ne", "No")},
        ],
        "opens": opens.isoformat(),
        "closes": closes.isoformat(),
    }


PARK = labels("Novi park uz Neretvu?", "Novi park uz Neretvu?", "Novi park uz Neretvu?", "A new park by the Neretva?")
SQUARE = labels("Obnova trga?", "Obnova trga?", "Obnova trga?", "Renew the square?")


@dataclass
class Fleet:
    """What the kit wrote, to compare reports with."""

    engine: Engine
    tsdb: TimeSeriesStore
    tsdb_url: str
    points: list[SeriesPoint] = field(default_factory=list)
    keep_points: bool = True


def make_fleet(
    db_url: str,
    tmp: Path,
    benches: Sequence[str] = BENCHES,
    step: timedelta = STEP,
    tsdb_url: str | None = None,
    keep_points: bool = True,
) -> Fleet:
    """Register the 12 benches, configure polls on ``benches``, cast votes through the SQL store, backfill
    40 days of their telemetry every ``step`` (into ``tsdb_url``, default a SQLite store in ``tmp``)."""
    engine = make_engine(db_url)
    store = SqlStore(engine)
    store.create_schema()
    twins = TwinStore(engine)
    records = default_fleet()
    twins.register(records, NOW)
    muni = {r.bench_id: r.attributes.municipality for r in records}
    desired = DesiredVersions(twins)
    nov5, dec10 = datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 12, 10, tzinfo=UTC)
    for bench_id in benches:
        polls = [poll("park-2026", PARK, nov5, dec10)]
        if bench_id == "trebinje-01":
            polls.append(poll("square-2026", SQUARE, datetime(2026, 10, 20, tzinfo=UTC), nov5))
        # The backfill's step is the benches' interval, so that availability is measured against it.
        desired.patch(bench_id, {"telemetry_interval_s": int(step.total_seconds()), "polls": polls}, None, "test", NOW)
    rng = random.Random(7)
    votes: list[VoteRow] = []
    windows = {"park-2026": (nov5, NOW), "square-2026": (datetime(2026, 10, 20, tzinfo=UTC), nov5),
               "old-2026": (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 30, tzinfo=UTC))}  # fmt: skip
    for bench_id in benches:
        for poll_id, (a, b) in windows.items():
            for _ in range(rng.randint(40, 90)):
                ts = a + (b - a) * rng.random()
                event = VoteEvent.model_validate_json(
                    json.dumps(
                        {
                            "v": 1,
                            "type": "vote",
                            "bench_id": bench_id,
                            "ts": ts.isoformat(),
                            "id": str(uuid.uuid4()),
                            "data": {"poll_id": poll_id, "option": rng.choice(["yes", "no"])},
                        }
                    )
                )
                votes.append(VoteRow(event, muni[bench_id]))
    store.record_votes(votes, NOW)
    url = tsdb_url or f"sqlite:///{tmp / 'series.db'}"
    fleet = Fleet(engine, open_tsdb(url), url, keep_points=keep_points)

    def write(points: Sequence[SeriesPoint]) -> None:
        if fleet.keep_points:
            fleet.points.extend(points)
        fleet.tsdb.write(points)

    sites = [s for s in seed_sites() if s.bench_id in benches]
    run_backfill(sites, seed=3, end=NOW, period=timedelta(days=40), write=write, step=step, progress=False)
    return fleet
