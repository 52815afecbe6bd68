"""A report as one self-contained HTML page: Jinja2 template, Plotly figures with plotly.js inlined (opens offline)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from fleet.reports import texts
from fleet.reports.build import PORT_KINDS, PollReport, Report
from fleet.reports.period import LOCAL_TZ

_ENV = Environment(loader=PackageLoader("fleet.reports", "templates"), autoescape=select_autoescape(["html", "j2"]))
_FIGURE_CONFIG = {"displayModeBar": False, "staticPlot": True, "responsive": False}
_LAYOUT: dict[str, Any] = {
    "width": 720,
    "height": 260,
    "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
    "template": "plotly_white",
}


class _Figures:
    """Turns figures into HTML fragments; the first carries plotly.js itself, the others reuse it."""

    def __init__(self) -> None:
        self._first = True

    def __call__(self, fig: go.Figure) -> Markup:
        fig.update_layout(**_LAYOUT)
        html = fig.to_html(full_html=False, include_plotlyjs=self._first, config=_FIGURE_CONFIG)
        self._first = False
        return Markup(html)  # plotly's own markup, trusted


def _bar(x: list[Any], y: list[Any], title: str, name: str | None = None) -> go.Figure:
    return go.Figure(go.Bar(x=x, y=y, name=name), layout={"title": {"text": title}})


def _poll_figures(poll: PollReport, lang: str, figure: _Figures) -> dict[str, Markup]:
    t = texts.text
    options = [texts.label(lang, o.labels) for o in poll.options]
    by_bench = go.Figure(
        [
            go.Bar(name=opt, x=[texts.name(lang, g.name) for g in poll.by_bench], y=[g.votes[i] for g in poll.by_bench])
            for i, opt in enumerate(options)
        ],
        layout={"barmode": "stack", "title": {"text": t(lang, "by_bench")}},
    )
    return {
        "results": figure(_bar(options, [o.votes for o in poll.options], t(lang, "votes"))),
        "by_day": figure(
            _bar([d.isoformat() for d, _ in poll.by_day], [n for _, n in poll.by_day], t(lang, "turnout_day"))
        ),
        "by_hour": figure(_bar(list(range(24)), list(poll.by_hour), t(lang, "turnout_hour"))),
        "by_bench": figure(by_bench),
    }


def _service_figures(report: Report, lang: str, figure: _Figures) -> dict[str, Markup]:
    t = texts.text
    names = [texts.name(lang, b.name) for b in report.service]
    sessions = go.Figure(
        [
            go.Bar(name=t(lang, f"kind.{kind}"), x=names, y=[b.ports[i].sessions for b in report.service])
            for i, kind in enumerate(PORT_KINDS)
        ],
        layout={"barmode": "group", "title": {"text": t(lang, "sessions")}},
    )
    solar = go.Figure(
        [
            go.Bar(name=t(lang, "solar_wh"), x=names, y=[b.solar_wh for b in report.service]),
            go.Bar(name=t(lang, "clear_sky_wh"), x=names, y=[b.clear_sky_wh for b in report.service]),
        ],
        layout={"barmode": "group", "title": {"text": t(lang, "solar")}},
    )
    return {"sessions": figure(sessions), "solar": figure(solar)}


def _formatters(lang: str) -> dict[str, Callable[..., str]]:
    locale = lang.replace("-", "_")

    def num(value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        return format_decimal(
            round(value, digits), format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=locale
        )

    def day(value: Any) -> str:
        return format_date(value, format="medium", locale=locale)

    def moment(value: datetime) -> str:
        return format_datetime(value.astimezone(LOCAL_TZ), format="medium", tzinfo=LOCAL_TZ, locale=locale)

    return {"num": num, "day": day, "moment": moment}


def render_html(report: Report) -> str:
    """The whole page as a string (about 4 MB: plotly.js is embedded once)."""
    lang = report.language
    figure = _Figures()
    place = texts.name(lang, report.municipality) if report.municipality else texts.text(lang, "fleet")
    return _ENV.get_template("report.html.j2").render(
        report=report,
        lang=lang,
        html_lang=lang,
        place=place,
        t=lambda key, **kw: texts.text(lang, key, **kw),
        plural=lambda key, n: texts.plural(lang, key, n),
        label=lambda labels: texts.label(lang, labels),
        name=lambda proper: texts.name(lang, proper),
        polls=[(poll, _poll_figures(poll, lang, figure)) for poll in report.polls],
        service_figures=_service_figures(report, lang, figure) if report.service else {},
        kinds=PORT_KINDS,
        **_formatters(lang),
    )
