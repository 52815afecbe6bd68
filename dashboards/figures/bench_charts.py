"""The bench page's charts: battery, solar against clear sky, daily energy, load, ports, Wi-Fi."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dashboards.figures.style import base_layout
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


def daily_energy_wh(power: Sequence[SeriesSample], every: timedelta) -> dict[datetime, float]:
    """Energy per UTC day from mean power per bucket (mean W × bucket hours, empty buckets count as 0)."""
    hours = every.total_seconds() / 3600
    days: dict[datetime, float] = {}
    for s in power:
        day = s.ts.replace(hour=0, minute=0, second=0, microsecond=0)
        days[day] = days.get(day, 0.0) + (s.value or 0.0) * hours
    return days


def _axis_title(unit: str) -> dict[str, Any]:
    return {"title": {"text": unit or "#"}, **_UNIT_AXIS.get(unit, {})}


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
    axis_layout: dict[str, Any] = {"yaxis": _axis_title(units[0])}
    if len(units) == 2:
        axis_layout["yaxis2"] = {**_axis_title(units[1]), "overlaying": "y", "side": "right"}
    return {"data": data, "layout": base_layout(labels[chart], **axis_layout)}


def bench_charts(
    series: Mapping[str, Sequence[SeriesSample]],
    clear_sky: Sequence[float],
    daily: Mapping[datetime, float],
    daily_clear_sky: Sequence[float],
    labels: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """Every chart of the bench page; ``clear_sky`` is aligned with the solar power series."""
    charts: dict[str, dict[str, Any]] = {chart: metric_chart(chart, series, labels) for chart in METRIC_CHARTS}
    sx, _ = _xy(series[SOLAR_POWER.key])
    charts["solar"]["data"].append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": sx,
            "y": list(clear_sky),
            "name": labels["clear_sky"],
            "line": {"dash": "dot"},
        }
    )
    days = sorted(daily)
    charts["energy"] = {
        "data": [
            {
                "type": "bar",
                "x": [to_rfc3339(d) for d in days],
                "y": [round(daily[d]) for d in days],
                "name": labels["energy"],
            },
            {
                "type": "scatter",
                "mode": "markers+lines",
                "x": [to_rfc3339(d) for d in days],
                "y": list(daily_clear_sky),
                "name": labels["clear_sky"],
                "line": {"dash": "dot"},
            },
        ],
        "layout": base_layout(labels["energy_title"], yaxis={"title": {"text": "Wh"}}, hovermode="x"),
    }
    return charts
