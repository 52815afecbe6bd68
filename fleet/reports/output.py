"""One report in one format: the table of renderers and the one call the CLI and the scheduler share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fleet.reports.build import Report, ReportSources, build_report
from fleet.reports.language import municipality_language
from fleet.reports.period import Period
from fleet.reports.render_csv import render_csv
from fleet.reports.render_html import render_html
from fleet.reports.render_pdf import render_pdf


@dataclass(frozen=True, slots=True)
class Format:
    """A report format: how to render it, its media type and file suffix."""

    render: Callable[[Report, str | None], bytes]
    media_type: str
    suffix: str


FORMATS: dict[str, Format] = {
    "html": Format(lambda r, _b: render_html(r).encode("utf-8"), "text/html; charset=utf-8", ".html"),
    "pdf": Format(render_pdf, "application/pdf", ".pdf"),
    "csv": Format(lambda r, _b: render_csv(r), "text/csv; charset=utf-8", ".csv"),
}


def make_report(
    sources: ReportSources,
    municipality: str | None,
    period: Period,
    now: datetime,
    languages: Mapping[str, str] | None = None,
    language: str | None = None,
) -> Report:
    """Build a report in ``language``, else the municipality's (``languages`` overrides, default by entity)."""
    entity = next(
        (t.attributes.entity for t in sources.twins if t.attributes.municipality == municipality),
        "",
    )
    chosen = language or municipality_language(municipality, entity, languages or {})
    return build_report(sources, municipality, period, chosen, now)


def render(report: Report, fmt: str, browser: str | None = None) -> bytes:
    """The report as bytes of format ``fmt`` (html, pdf or csv); ValueError naming the accepted formats."""
    if fmt not in FORMATS:
        raise ValueError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")
    return FORMATS[fmt].render(report, browser)
