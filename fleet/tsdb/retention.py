"""The data lifecycle job: roll completed hours and days up into aggregates, then delete old raw points.

Run by the scheduler (fleet/runtime.py) every few minutes, with the injectable clock. Deterministic and
idempotent: each run recomputes the buckets since a little before the recorded progress (``lookback``,
for samples that arrive late from a bench's outbox) up to the last completed bucket, overwriting the
same aggregate points with the same values. Raw points are deleted only when they are older than the
retention *and* already inside every aggregate, so a stopped job never loses data, it only keeps more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleet.tsdb.base import TimeSeriesStore, TsdbRejected, every_ms, from_ms, to_ms
from fleet.tsdb.rollup import (
    RESOLUTIONS,
    ROLLED_UP,
    Resolution,
    floor_ms,
    kept_fields,
    progress,
    progress_point,
    target,
)
from twins.clock import Clock
from twins.series import SeriesPoint

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run did."""

    aggregate_points: int
    """Aggregate points written (hourly and daily, all measurements)."""
    raw_deleted_before: datetime | None
    """Raw points older than this were deleted; None if nothing could be deleted yet."""


class RetentionJob:
    """Downsampling and raw retention for every rolled-up measurement of one store."""

    def __init__(
        self,
        store: TimeSeriesStore,
        clock: Clock,
        raw_retention: timedelta,
        *,
        lookback: timedelta = DEFAULT_LOOKBACK,
        measurements: Iterable[str] = tuple(ROLLED_UP),
    ) -> None:
        """Keep raw points of ``measurements`` for ``raw_retention``; aggregates are kept forever."""
        if raw_retention < timedelta(days=1):
            raise ValueError(f"raw retention {raw_retention} must be at least one day (the daily aggregate reads it)")
        self._store = store
        self._clock = clock
        self._retention = raw_retention
        self._lookback = lookback
        self._measurements = tuple(measurements)

    def run(self) -> RetentionReport:
        """Roll up what is complete, then delete raw points past the retention; returns what was done."""
        now = self._clock.now()
        written = 0
        deleted: datetime | None = None
        for measurement in self._measurements:
            done: list[datetime] = []
            for res in RESOLUTIONS:
                count, until = self._roll_up(measurement, res, now)
                written += count
                if until is not None:
                    done.append(until)
            if len(done) < len(RESOLUTIONS):
                continue  # no raw points at all yet, or an aggregate never completed: keep everything
            cutoff = min([now - self._retention, *done])
            try:
                self._store.delete_before(measurement, cutoff)
            except TsdbRejected as err:
                # InfluxDB 2.x/3.x refuse InfluxQL DELETE on the v1 API: keep rolling up, say what to do.
                log.warning("retention: raw %s points before %s not deleted: %s", measurement, cutoff.isoformat(), err)
                continue
            deleted = cutoff if deleted is None else min(deleted, cutoff)
        if written or deleted is not None:
            log.info(
                "retention: %d aggregate points written, raw points before %s deleted from %s",
                written,
                deleted.isoformat() if deleted else "-",
                self._store.describe(),
            )
        return RetentionReport(written, deleted)

    def _roll_up(self, measurement: str, res: Resolution, now: datetime) -> tuple[int, datetime | None]:
        """Aggregate the completed buckets of ``res`` not yet done (and the lookback); returns (points, progress)."""
        width = every_ms(res.every)
        complete_end = floor_ms(to_ms(now), width)
        until = progress(self._store.last, measurement, res)
        if until is not None:
            if to_ms(until) >= complete_end:
                return 0, until  # no bucket completed since the last run (late points wait for the next one)
            begin = floor_ms(to_ms(until - self._lookback), width)
        else:
            oldest = self._store.oldest(measurement)
            if oldest is None:
                return 0, None
            begin = floor_ms(to_ms(oldest), width)
        written = 0
        chunk = every_ms(res.chunk)
        name = target(measurement, res)
        for lo in range(begin, complete_end, chunk):
            hi = min(lo + chunk, complete_end)
            points = [
                SeriesPoint(name, p.tags, kept, p.ts)
                for p in self._store.aggregate(measurement, from_ms(lo), from_ms(hi), res.every)
                if (kept := kept_fields(measurement, p.fields))
            ]
            if points:
                self._store.write(points)
                written += len(points)
            # Progress only moves forward once the chunk is written: a crash redoes it, never skips it.
            self._store.write([progress_point(measurement, res, from_ms(hi))])
        return written, from_ms(complete_end)
