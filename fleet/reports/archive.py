"""The archive of generated reports: files under ``<data dir>/reports/`` and one ``report_archive`` row each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from fleet.reports.tables import report_archive

FLEET_KEY = "_fleet"  # the fleet report's municipality key in file names and rows


@dataclass(frozen=True, slots=True)
class ArchivedReport:
    """One generated report file."""

    id: int
    municipality: str
    period: str
    format: str
    language: str
    path: Path
    size: int
    created_at: datetime


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "report"


def store_report(
    engine: Engine,
    folder: Path,
    municipality: str | None,
    period: str,
    fmt: str,
    language: str,
    data: bytes,
    now: datetime,
) -> ArchivedReport:
    """Write the file (named by municipality, period, format and time) and record it."""
    key = municipality or FLEET_KEY
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_slug(key)}_{_slug(period)}_{now:%Y%m%dT%H%M%S}.{fmt}"
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # a reader never sees half a file
    row = {"municipality": key, "period": period, "format": fmt, "language": language, "path": str(path),
           "size": len(data), "created_at": now}  # fmt: skip
    with engine.begin() as conn:
        new_id = conn.execute(insert(report_archive).values(**row).returning(report_archive.c.id)).scalar_one()
    return ArchivedReport(int(new_id), key, period, fmt, language, path, len(data), now)


def archived(engine: Engine, municipality: str | None = None) -> list[ArchivedReport]:
    """Archived reports, newest first, optionally of one municipality (``_fleet``: the fleet's)."""
    q = select(report_archive).order_by(report_archive.c.created_at.desc(), report_archive.c.id.desc())
    if municipality is not None:
        q = q.where(report_archive.c.municipality == municipality)
    with engine.connect() as conn:
        return [
            ArchivedReport(
                r.id,
                r.municipality,
                r.period,
                r.format,
                r.language,
                Path(r.path),
                r.size,
                r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC),
            )
            for r in conn.execute(q)
        ]
