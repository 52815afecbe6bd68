"""What the dashboard's archive page needs of the reports: the archive, reports on demand and the recipients."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from fleet.reports.archive import FLEET_KEY, ArchivedReport, archived
from fleet.reports.build import ReportSources
from fleet.reports.output import FORMATS, make_report, render
from fleet.reports.period import parse_period
from fleet.reports.recipients import add_recipient, recipients, remove_recipient
from fleet.tsdb.base import TimeSeriesStore
from twins.clock import Clock
from twins.twin import Twin


@dataclass(frozen=True, slots=True)
class MadeReport:
    """A report made on demand: its bytes, media type and download name."""

    data: bytes
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class ReportDesk:
    """The report collaborators of the dashboard (the composition root builds one; create_app starts nothing)."""

    engine: Engine
    tsdb: TimeSeriesStore
    twins: Callable[[], Sequence[Twin]]
    clock: Clock
    languages: Mapping[str, str] = field(default_factory=dict)
    browser: str | None = None

    def archive(self, municipalities: frozenset[str] | None) -> list[ArchivedReport]:
        """Archived reports, newest first; ``municipalities`` (None: all, the fleet report included) limits them."""
        found = archived(self.engine)
        if municipalities is None:
            return found
        return [r for r in found if r.municipality in municipalities and r.municipality != FLEET_KEY]

    def archived_file(self, report_id: int, municipalities: frozenset[str] | None) -> ArchivedReport | None:
        """One archived report the caller may see, or None."""
        return next((r for r in self.archive(municipalities) if r.id == report_id), None)

    def make(self, municipality: str | None, period: str, fmt: str, language: str | None = None) -> MadeReport:
        """A report now (ValueError naming a bad period, format or municipality; PdfError when PDF fails)."""
        if fmt not in FORMATS:
            raise ValueError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")
        chosen = parse_period(period)
        sources = ReportSources(self.engine, self.tsdb, list(self.twins()))
        built = make_report(sources, municipality, chosen, self.clock.now(), self.languages, language)
        data = render(built, fmt, self.browser)
        name = f"benchfleet-{municipality or 'fleet'}-{period}{FORMATS[fmt].suffix}".replace(" ", "_")
        return MadeReport(data, FORMATS[fmt].media_type, name)

    def recipients(self, municipalities: frozenset[str] | None) -> dict[str, list[str]]:
        """Recipient addresses per municipality (``_fleet``: the fleet report's), limited like ``archive``."""
        found = recipients(self.engine)
        return found if municipalities is None else {m: a for m, a in found.items() if m in municipalities}

    def add_recipient(self, municipality: str, address: str) -> bool:
        """Add an address (ValueError naming a bad one); False when it was there already."""
        return add_recipient(self.engine, municipality, address, self.clock.now())

    def remove_recipient(self, municipality: str, address: str) -> bool:
        """Remove an address; False when it was not there."""
        return remove_recipient(self.engine, municipality, address)
