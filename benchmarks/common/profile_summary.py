"""Where a profiled ingest worker's CPU went: py-spy's raw (collapsed) stacks summed into a few categories.

    python benchmarks/common/profile_summary.py PROFILE.txt

Each sample goes to the innermost frame that belongs to a category (pydantic inside ``twins/codec.py``
counts as decoding, inside ``twins/twin.py`` as the twin update). Record with ``py-spy record --gil``
so that only samples holding the GIL (Python doing work, not waiting) are counted.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

#: (category, a path fragment of the frame's file); the innermost matching frame of a sample wins.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("paho (MQTT read, PUBACK)", "paho/mqtt/"),
    ("HTTP to influxd (requests, urllib3)", "requests/"),
    ("HTTP to influxd (requests, urllib3)", "urllib3/"),
    ("HTTP to influxd (requests, urllib3)", "http/client.py"),
    ("SQL (SQLAlchemy, psycopg)", "sqlalchemy/"),
    ("SQL (SQLAlchemy, psycopg)", "psycopg/"),
    ("SQL (SQLAlchemy, psycopg)", "fleet/db/"),
    ("SQL (SQLAlchemy, psycopg)", "fleet/state/"),
    ("Redis (change events)", "redis/"),
    ("metrics (prometheus_client)", "prometheus_client/"),
    ("decode + validation (twins/codec.py, pydantic)", "twins/codec.py"),
    ("points (twins/series.py, twins/metrics.py)", "twins/series.py"),
    ("points (twins/series.py, twins/metrics.py)", "twins/metrics.py"),
    ("line protocol (fleet/tsdb)", "fleet/tsdb/line_protocol.py"),
    ("line protocol (fleet/tsdb)", "fleet/tsdb/influx_v1.py"),
    ("TSDB writer and spool (fleet/tsdb)", "fleet/tsdb/"),
    ("twin update (twins/twin.py, twin repository)", "twins/twin.py"),
    ("twin update (twins/twin.py, twin repository)", "fleet/twin_repo.py"),
    ("change events (fleet/events)", "fleet/event"),
    ("pipeline and worker (fleet/ingest)", "fleet/ingest/"),
    ("queues and threads (stdlib)", "queue.py"),
    ("queues and threads (stdlib)", "threading.py"),
    ("queues and threads (stdlib)", "concurrent/futures/"),
)


def categorise(frames: list[str]) -> str:
    """The category of one sample's stack (outermost frame first)."""
    for frame in reversed(frames):
        for name, fragment in CATEGORIES:
            if fragment in frame:
                return name
    return "other"


def summarise(path: Path) -> list[tuple[str, float]]:
    """Share of the samples per category, largest first."""
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack:
            counts[categorise(stack.split(";"))] += int(n)
    total = sum(counts.values()) or 1
    return [(name, count / total) for name, count in counts.most_common()]


def main() -> None:
    """Print the table for one profile."""
    for name, share in summarise(Path(sys.argv[1])):
        print(f"  {share:6.1%}  {name}")


if __name__ == "__main__":
    main()
