"""The bench page's charts: battery, solar against clear sky, daily energy, load, ports, Wi-Fi."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from dashboards.figures.style import base_layout
from fleet.reports.period import LOCAL_TZ
from twins.clock import to_rfc3339
from twins.metrics import METRICS, SOLAR_POWER, ChartGroup, Metric
from twins.series import SeriesSample


@dataclass(frozen=True, slots=True)
class ChartRange:
    """A time range of the bench page and its bucket width."""

    key: str
    span: timedelta
    every: timedelta


#: The ranges the page offers; about 300 buckets each. Buckets of whole hours or days are read from the
#: hourly or daily aggregates (fleet/tsdb/rollup.py): raw points are kept only BENCHFLEET_RAW_RETENTION_DAYS.
RANGES: dict[str, ChartRange] = {
    "24h": ChartRange("24h", timedelta(hours=24), timedelta(minutes=5)),
    "7d": ChartRange("7d", timedelta(days=7), timedelta(minutes=30)),
    "30d": ChartRange("30d", timedelta(days=30), timedelta(hours=2)),
    "365d": ChartRange("365d", timedelta(days=365), timedelta(days=1)),
}

#: The charts drawn from metrics, in page order; each draws the metrics of its group (twins/metrics.py).
METRIC_CHARTS: tuple[ChartGroup, ...] = ("battery", "solar", "load", "ports", "wifi")
#: Extra axis settings by unit (the first unit of a chart goes on the left axis, a second on the right).
_UNIT_AXIS: dict[str, dict[str, Any]] = {"%": {"range": [0, 100]}, "": {"rangemode": "tozero"}}
#: Extra trace settings of a chart's metric traces.
_TRACE_STYLE: dict[str, dict[str, Any]] = {"solar": {"fill": "tozeroy"}}


def chart_metrics(chart: ChartGroup) -> tuple[Metric, ...]:
    """The metrics a chart draws, in table order."""
    return tuple(m for m in METRICS if m.chart == chart)


#: Series each chart needs (API field names: metric keys).
CHART_FIELDS: tuple[str, ...] = tuple(m.key for chart in METRIC_CHARTS for m in chart_metrics(chart))

#: Where a live telemetry summary value goes: (chart, trace index, metric key).
LIVE_TRACES: tuple[tuple[str, int, str], ...] = tuple(
    (chart, i, m.key) for chart in METRIC_CHARTS for i, m in enumerate(chart_metrics(chart)) if m.summary
)


def _xy(samples: Sequence[SeriesSample]) -> tuple[list[str], list[float | None]]:
    return [to_rfc3339(s.ts) for s in samples], [s.value for s in samples]


def _line(samples: Sequence[SeriesSample], name: str, **extra: Any) -> dict[str, Any]:
    x, y = _xy(samples)
    # Gaps are bridged: a bench reporting less often than the bucket width would otherwise draw no line at all;
    # outages show up as health reasons and as straight segments.
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name, "connectgaps": True, **extra}


def local_midnight(ts: datetime, tz: tzinfo = LOCAL_TZ) -> datetime:
    """The start of ``ts``'s local day (the benches' days are Bosnian days, not UTC ones)."""
    return ts.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def daily_energy_wh(power: Sequence[SeriesSample], every: timedelta, tz: tzinfo = LOCAL_TZ) -> dict[datetime, float]:
    """Energy per local day (keyed by its local midnight) from mean power per bucket (mean W × bucket hours,
    empty buckets count as 0)."""
    hours = every.total_seconds() / 3600
    days: dict[datetime, float] = {}
    for s in power:
        day = local_midnight(s.ts, tz)
        days[day] = days.get(day, 0.0) + (s.value or 0.0) * hours
    return days


def _axis_title(unit: str, values: Sequence[float | None] = ()) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "title": {"text": unit or "#", "standoff": 8},
        "automargin": True,
        **_UNIT_AXIS.get(unit, {}),
    }
    if not unit:  # a count: whole-number ticks only (Plotly would otherwise step by 0.5 for small counts)
        top = max((v for v in values if v is not None), default=0.0)
        axis.update(tickformat="d", dtick=max(1, math.ceil(top / 5)))
    return axis


def _no_data(figure: dict[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """Say "no data" on a chart without a single value, instead of Plotly's empty −1…1 axes."""
    if any(v is not None for trace in figure["data"] for v in trace.get("y", [])):
        return figure
    layout = figure["layout"]
    layout["annotations"] = [
        {
            "text": labels.get("no_data", "No data"),
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "font": {"size": 16, "color": "#607d8b"},
        }
    ]
    for axis in ("xaxis", "yaxis", "yaxis2"):
        if axis in layout or axis == "xaxis":
            layout[axis] = {**layout.get(axis, {}), "showticklabels": False, "showgrid": False, "zeroline": False}
    return figure


def metric_chart(
    chart: ChartGroup, series: Mapping[str, Sequence[SeriesSample]], labels: Mapping[str, str]
) -> dict[str, Any]:
    """One chart of metric traces: a trace per metric of the group, one y axis per unit (at most two)."""
    metrics = chart_metrics(chart)
    units = list(dict.fromkeys(m.unit for m in metrics))
    if len(units) > 2:
        raise ValueError(f"chart {chart!r} mixes {len(units)} units {units}: at most two axes")
    axes = {unit: ("y", "y2")[i] for i, unit in enumerate(units)}
    data = []
    for m in metrics:
        extra = dict(_TRACE_STYLE.get(chart, {}))
        if axes[m.unit] == "y2":
            extra["yaxis"] = "y2"
        data.append(_line(series[m.key], labels[m.key], **extra))
    values = {u: [v for m in metrics if m.unit == u for v in _xy(series[m.key])[1]] for u in units}
    axis_layout: dict[str, Any] = {"yaxis": _axis_title(units[0], values[units[0]])}
    if len(units) == 2:
        axis_layout["yaxis2"] = {**_axis_title(units[1], values[units[1]]), "overlaying": "y", "side": "right"}
        # Room for the right-hand tick labels and title (automargin grows it further if needed).
        axis_layout["margin"] = {"l": 50, "r": 60, "t": 40, "b": 40}
    return _no_data({"data": data, "layout": base_layout(labels[chart], **axis_layout)}, labels)


def bench_charts(
    series: Mapping[str, Sequence[SeriesSample]],
    clear_sky: Sequence[float],
    daily: Mapping[datetime, float],
    daily_clear_sky: Sequence[float],
    labels: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """Every chart of the bench page; ``clear_sky`` is aligned with the solar power series."""
    charts: dict[str, dict[str, Any]] = {chart: metric_chart(chart, series, labels) for chart in METRIC_CHARTS}
    # No measurements: the expectation alone would read as data, so it is left out too.
    expected: list[float | None] = (
        [None] * len(clear_sky) if "annotations" in charts["solar"]["layout"] else list(clear_sky)
    )
    sx, _ = _xy(series[SOLAR_POWER.key])
    charts["solar"]["data"].append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": sx,
            "y": expected,
            "name": labels["clear_sky"],
            "line": {"dash": "dot"},
        }
    )
    days = sorted(daily)
    # Each bar covers its whole local day (period alignment), never straddling midnight.
    day_x = [d.date().isoformat() for d in days]
    period = {"xperiod": 86_400_000, "xperiodalignment": "middle"}
    charts["energy"] = {
        "data": [
            {
                "type": "bar",
                "x": day_x,
                "y": [round(daily[d]) for d in days],
                "name": labels["energy"],
                **period,
            },
            {
                "type": "scatter",
                "mode": "markers+lines",
                "x": day_x,
                **period,
                "y": list(daily_clear_sky),
                "name": labels["clear_sky"],
                "line": {"dash": "dot"},
            },
        ],
        "layout": base_layout(
            labels["energy_title"], yaxis={"title": {"text": "Wh"}, "rangemode": "tozero"}, hovermode="x"
        ),
    }
    charts["energy"] = _no_data(charts["energy"], labels)
    return charts
