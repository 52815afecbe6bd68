"""Tables of the reports: who receives them, what was sent, and the archive of generated files."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from fleet.db.metadata import metadata

# One row per (municipality, address): the people a municipality's monthly report is mailed to.
report_recipients = Table(
    "report_recipients",
    metadata,
    Column("municipality", String(100), primary_key=True),
    Column("email", String(254), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# One row per (municipality, period) that was mailed: the primary key is what makes a monthly report
# go out once, however often the job runs (catch-up after downtime, two serve processes).
report_deliveries = Table(
    "report_deliveries",
    metadata,
    Column("municipality", String(100), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("archive_id", Integer, nullable=True),
)

# Every generated report file (kept in the data folder under reports/): the archive page lists these.
report_archive = Table(
    "report_archive",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No index: a few rows a month, and the fleet tables' migration test knows no indexes of other tables.
    Column("municipality", String(100), nullable=False),
    Column("period", String(32), nullable=False),
    Column("format", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

REPORT_TABLES = (report_recipients, report_deliveries, report_archive)
