"""Embedded time-series store in SQLite, with the semantics of the InfluxDB store (zero-setup demo).

Layout: a ``series`` row per (measurement, tag set), its tags in ``series_tags`` (indexed by key and
value, so any subset of tags finds its series), and one ``points`` row per (series, field, ms) with
that key as the clustered primary key: a bench's field over a time range is one index range scan.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from fleet.tsdb.base import (
    Aggregate,
    TsdbRejected,
    TsdbUnavailable,
    bucket_starts,
    clean_fields,
    clean_tags,
    every_ms,
    field_type,
    fill_buckets,
    from_ms,
    numeric,
    to_ms,
)
from fleet.tsdb.rollup import STATS, read_series, stat_field
from twins.series import FieldValue, SeriesPoint, SeriesSample

SETTING = "BENCHFLEET_TSDB"
NUMERIC_TYPES = frozenset({"float", "integer"})
#: query_series functions in SQL.
SQL_FUNCTIONS: dict[Aggregate, str] = {"mean": "avg", "sum": "sum", "min": "min", "max": "max", "count": "count"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tagset TEXT NOT NULL,
    UNIQUE (measurement, tagset)
);
CREATE TABLE IF NOT EXISTS series_tags (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    series_id INTEGER NOT NULL REFERENCES series(id),
    PRIMARY KEY (key, value, series_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS field_types (
    measurement TEXT NOT NULL,
    field TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (measurement, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    ts INTEGER NOT NULL,
    value,
    PRIMARY KEY (series_id, field, ts)
) WITHOUT ROWID;
"""


def sqlite_path(url: str) -> str:
    """The file path of ``sqlite:///path`` (``sqlite:///:memory:`` for a private in-memory store)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(
            f"{SETTING}={url!r}: expected sqlite:///relative/path, sqlite:////absolute/path or sqlite:///:memory:"
        )
    return url[len(prefix) :]


class SqliteStore:
    """TimeSeriesStore in one SQLite file (WAL mode); thread-safe through one connection and a lock."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating if needed) the store at ``path``."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives a process crash; only a power cut may lose the last ones.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as err:
            raise TsdbUnavailable(f"sqlite {self.path}: {err}") from err
        self._series: dict[tuple[str, str], int] = {}
        self._types: dict[tuple[str, str], str] = {
            (m, f): t for m, f, t in self._db.execute("SELECT measurement, field, type FROM field_types")
        }

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """Open from a ``sqlite:///path`` URL."""
        return cls(sqlite_path(url))

    # -- writing ---------------------------------------------------------------------------------
    def _series_id(self, measurement: str, tags: Mapping[str, str]) -> int:
        """Id of the (measurement, tag set) series, created on first use."""
        tagset = json.dumps(sorted(tags.items()), separators=(",", ":"))
        key = (measurement, tagset)
        sid = self._series.get(key)
        if sid is not None:
            return sid
        row = self._db.execute(
            "SELECT id FROM series WHERE measurement = ? AND tagset = ?", (measurement, tagset)
        ).fetchone()
        if row is None:
            cur = self._db.execute("INSERT INTO series (measurement, tagset) VALUES (?, ?)", (measurement, tagset))
            sid = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO series_tags (key, value, series_id) VALUES (?, ?, ?)",
                [(k, v, sid) for k, v in tags.items()],
            )
        else:
            sid = int(row[0])
        self._series[key] = sid
        return sid

    def _check_type(
        self, measurement: str, field: str, value: FieldValue, new_types: dict[tuple[str, str], str]
    ) -> bool:
        """True if ``value`` fits the field's type (fixing the type on first sight), as InfluxDB does."""
        kind = field_type(value)
        known = self._types.get((measurement, field)) or new_types.get((measurement, field))
        if known is None:
            new_types[(measurement, field)] = kind
            return True
        return known == kind

    def write(self, points: Sequence[SeriesPoint]) -> None:
        """Insert or overwrite the points in one transaction; wrongly typed fields are dropped and reported."""
        rows: list[tuple[int, str, int, FieldValue]] = []
        conflicts: list[str] = []
        new_types: dict[tuple[str, str], str] = {}
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for point in points:
                        fields = clean_fields(point.fields)
                        if not fields:
                            continue
                        ts = to_ms(point.ts)
                        kept = {}
                        for name, value in fields.items():
                            if self._check_type(point.measurement, name, value, new_types):
                                kept[name] = value
                            else:
                                conflicts.append(f"{point.measurement}.{name}={value!r}")
                        if not kept:
                            continue
                        sid = self._series_id(point.measurement, clean_tags(point.tags))
                        rows.extend((sid, name, ts, value) for name, value in kept.items())
                    self._db.executemany(
                        "INSERT OR REPLACE INTO points (series_id, field, ts, value) VALUES (?, ?, ?, ?)", rows
                    )
                    self._db.executemany(
                        "INSERT OR IGNORE INTO field_types (measurement, field, type) VALUES (?, ?, ?)",
                        [(m, f, t) for (m, f), t in new_types.items()],
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    self._series.clear()  # ids created in the rolled-back transaction are gone
                    raise
            except (TypeError, ValueError) as err:
                raise TsdbRejected(f"{self.describe()}: {err}") from err
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err
            self._types.update(new_types)
        if conflicts:
            # Like InfluxDB's "partial write": the good values are stored, the conflicting ones dropped.
            raise TsdbRejected(
                f"{self.describe()}: partial write: field type conflict, dropped {len(conflicts)} value(s): "
                + ", ".join(conflicts[:5])
            )

    # -- reading ---------------------------------------------------------------------------------
    def _matching_series(self, measurement: str, tags: Mapping[str, str]) -> list[int]:
        """Ids of the series of ``measurement`` whose tags include all of ``tags``."""
        if not tags:
            rows: Iterable[tuple[int]] = self._db.execute("SELECT id FROM series WHERE measurement = ?", (measurement,))
            return [r[0] for r in rows]
        items = sorted(tags.items())
        matches = " OR ".join("(key = ? AND value = ?)" for _ in items)
        params: list[str | int] = [x for kv in items for x in kv]
        sql = (
            f"SELECT t.series_id FROM series_tags t JOIN series s ON s.id = t.series_id "
            f"WHERE s.measurement = ? AND ({matches}) GROUP BY t.series_id HAVING count(*) = ?"
        )
        return [r[0] for r in self._db.execute(sql, [measurement, *params, len(items)])]

    def query_series(
        self,
        measurement: str,
        field: str,
        tags: Mapping[str, str],
        start: datetime,
        end: datetime,
        every: timedelta,
        fn: Aggregate = "mean",
    ) -> list[SeriesSample]:
        """Mean (or ``fn``) per epoch-aligned bucket; long buckets of rolled-up metrics from their aggregates."""
        return read_series(self.query_raw, self.last, measurement, field, tags, start, end, every, fn)

    def query_raw(
        self,
        measurement: str,
        field: str,
        tags: Mapping[str, str],
        start: datetime,
        end: datetime,
        every: timedelta,
        fn: Aggregate = "mean",
    ) -> list[SeriesSample]:
        """``fn`` per epoch-aligned bucket over the stored points, empty buckets None (as InfluxQL fill(null))."""
        buckets = bucket_starts(start, end, every)
        if not buckets:
            return []
        width = every_ms(every)
        with self._lock:
            try:
                ids = self._matching_series(measurement, tags)
                kind = self._types.get((measurement, field))
                marks = ",".join("?" * len(ids))
                # Floor-modulo keeps buckets aligned for times before 1970 too (SQLite's % truncates).
                sql = (
                    f"SELECT ts - (((ts % ?) + ?) % ?) AS b, {SQL_FUNCTIONS[fn]}(value), count(*) FROM points "
                    f"WHERE series_id IN ({marks}) AND field = ? AND ts >= ? AND ts < ? GROUP BY b"
                )
                rows = self._db.execute(sql, [width, width, width, *ids, field, to_ms(start), to_ms(end)]).fetchall()
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err
        if rows and kind not in NUMERIC_TYPES:
            # InfluxQL refuses mean() over booleans and strings; so do we, for the same answers.
            raise TsdbRejected(f"{self.describe()}: cannot average {measurement}.{field} ({kind} values)")
        return fill_buckets(buckets, {int(b): float(value) for b, value, _n in rows})

    # -- lifecycle (fleet/tsdb/retention.py) ---------------------------------------------------------
    def _numeric_fields(self, measurement: str) -> list[str]:
        return sorted(f for (m, f), t in self._types.items() if m == measurement and t in NUMERIC_TYPES)

    def _all_fields(self, measurement: str) -> list[str]:
        return sorted(f for (m, f) in self._types if m == measurement)

    def aggregate(self, measurement: str, start: datetime, end: datetime, every: timedelta) -> list[SeriesPoint]:
        """One point per (series, non-empty bucket) with ``<field>.<stat>`` for every numeric field and STATS."""
        width = every_ms(every)
        lo, hi = to_ms(start), to_ms(end)
        bucket = "ts - (((ts % ?) + ?) % ?)"
        stats_sql = (
            f"SELECT {bucket} AS b, avg(value), min(value), max(value), sum(value), count(*) FROM points "
            "WHERE series_id = ? AND field = ? AND ts >= ? AND ts < ? GROUP BY b"
        )
        # A bare column next to a single max() takes the value of the row holding the maximum (SQLite rule).
        last_sql = (
            f"SELECT {bucket} AS b, max(ts), value FROM points "
            "WHERE series_id = ? AND field = ? AND ts >= ? AND ts < ? GROUP BY b"
        )
        fields: dict[tuple[int, int], dict[str, FieldValue]] = {}
        with self._lock:
            try:
                series = self._db.execute(
                    "SELECT id, tagset FROM series WHERE measurement = ?", (measurement,)
                ).fetchall()
                for sid, _tagset in series:
                    for name in self._numeric_fields(measurement):
                        args = (width, width, width, sid, name, lo, hi)
                        for b, mean, low, high, total, count in self._db.execute(stats_sql, args):
                            values: tuple[float | int, ...] = (mean, low, high, total, count)
                            got = fields.setdefault((sid, int(b)), {})
                            for stat, value in zip(STATS[:5], values, strict=True):
                                got[stat_field(name, stat)] = int(value) if stat == "count" else float(value)
                        for b, _ts, value in self._db.execute(last_sql, args):
                            fields[(sid, int(b))][stat_field(name, "last")] = float(value)
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err
        tags = {sid: dict(json.loads(tagset)) for sid, tagset in series}
        return [SeriesPoint(measurement, tags[sid], values, from_ms(b)) for (sid, b), values in sorted(fields.items())]

    def oldest(self, measurement: str) -> datetime | None:
        """Timestamp of the oldest point of ``measurement`` (one index lookup per series and field)."""
        found: list[int] = []
        with self._lock:
            try:
                for sid in self._matching_series(measurement, {}):
                    for name in self._all_fields(measurement):
                        row = self._db.execute(
                            "SELECT min(ts) FROM points WHERE series_id = ? AND field = ?", (sid, name)
                        ).fetchone()
                        if row[0] is not None:
                            found.append(int(row[0]))
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err
        return from_ms(min(found)) if found else None

    def delete_before(self, measurement: str, before: datetime) -> None:
        """Delete the points of ``measurement`` older than ``before`` in one transaction (freed pages are reused)."""
        cutoff = to_ms(before)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sid in self._matching_series(measurement, {}):
                        for name in self._all_fields(measurement):
                            self._db.execute(
                                "DELETE FROM points WHERE series_id = ? AND field = ? AND ts < ?", (sid, name, cutoff)
                            )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err

    def last(self, measurement: str, field: str, tags: Mapping[str, str]) -> tuple[datetime, float] | None:
        """Newest (timestamp, value) of ``field`` among the matching series."""
        with self._lock:
            try:
                ids = self._matching_series(measurement, tags)
                if not ids:
                    return None
                marks = ",".join("?" * len(ids))
                row = self._db.execute(
                    f"SELECT ts, value FROM points WHERE series_id IN ({marks}) AND field = ? ORDER BY ts DESC LIMIT 1",
                    [*ids, field],
                ).fetchone()
            except sqlite3.Error as err:
                raise TsdbUnavailable(f"{self.describe()}: {err}") from err
        if row is None:
            return None
        return from_ms(int(row[0])), numeric(row[1], f"{measurement}.{field}")

    def ping(self) -> bool:
        """True while the database file can be read."""
        with self._lock:
            try:
                self._db.execute("SELECT 1").fetchone()
            except sqlite3.Error:
                return False
        return True

    def describe(self) -> str:
        """e.g. ``sqlite /var/lib/benchfleet/series.sqlite3``."""
        return f"sqlite {self.path}"

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
