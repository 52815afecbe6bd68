"""The bench page's charts: battery, solar against clear sky, daily energy, load, ports, Wi-Fi."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dashboards.figures.style import base_layout
from twins.clock import to_rfc3339
from twins.series import SeriesSample


@dataclass(frozen=True, slots=True)
class ChartRange:
    """A time range of the bench page and its bucket width."""

    key: str
    span: timedelta
    every: timedelta


#: The ranges the page offers; about 300 buckets each.
RANGES: dict[str, ChartRange] = {
    "24h": ChartRange("24h", timedelta(hours=24), timedelta(minutes=5)),
    "7d": ChartRange("7d", timedelta(days=7), timedelta(minutes=30)),
    "30d": ChartRange("30d", timedelta(days=30), timedelta(hours=2)),
}

#: Series each chart needs (API field names of twins.series.SERIES_FIELDS).
CHART_FIELDS: tuple[str, ...] = (
    "battery.soc_pct",
    "battery.temp_c",
    "solar.power_w",
    "load.power_w",
    "ports.power_w",
    "ports.sessions_today",
    "wifi.clients",
)

#: Where a live telemetry summary value goes: (chart, trace index, summary key).
LIVE_TRACES: tuple[tuple[str, int, str], ...] = (
    ("battery", 0, "soc_pct"),
    ("battery", 1, "temp_c"),
    ("solar", 0, "solar_power_w"),
    ("load", 0, "load_power_w"),
    ("ports", 0, "ports_power_w"),
    ("ports", 1, "port_sessions"),
    ("wifi", 0, "wifi_clients"),
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


def bench_charts(
    series: Mapping[str, Sequence[SeriesSample]],
    clear_sky: Sequence[float],
    daily: Mapping[datetime, float],
    daily_clear_sky: Sequence[float],
    labels: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """Every chart of the bench page; ``clear_sky`` is aligned with ``series['solar.power_w']``."""
    solar = series["solar.power_w"]
    sx, _ = _xy(solar)
    days = sorted(daily)
    return {
        "battery": {
            "data": [
                _line(series["battery.soc_pct"], labels["soc"]),
                _line(series["battery.temp_c"], labels["temp"], yaxis="y2"),
            ],
            "layout": base_layout(
                labels["battery"],
                yaxis={"title": {"text": "%"}, "range": [0, 100]},
                yaxis2={"title": {"text": "°C"}, "overlaying": "y", "side": "right"},
            ),
        },
        "solar": {
            "data": [
                _line(solar, labels["solar_power"], fill="tozeroy"),
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": sx,
                    "y": list(clear_sky),
                    "name": labels["clear_sky"],
                    "line": {"dash": "dot"},
                },
            ],
            "layout": base_layout(labels["solar"], yaxis={"title": {"text": "W"}}),
        },
        "energy": {
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
        },
        "load": {
            "data": [_line(series["load.power_w"], labels["load"])],
            "layout": base_layout(labels["load"], yaxis={"title": {"text": "W"}}),
        },
        "ports": {
            "data": [
                _line(series["ports.power_w"], labels["ports_power"]),
                _line(series["ports.sessions_today"], labels["sessions"], yaxis="y2"),
            ],
            "layout": base_layout(
                labels["ports"],
                yaxis={"title": {"text": "W"}},
                yaxis2={"title": {"text": "#"}, "overlaying": "y", "side": "right"},
            ),
        },
        "wifi": {
            "data": [_line(series["wifi.clients"], labels["wifi_clients"])],
            "layout": base_layout(labels["wifi"], yaxis={"title": {"text": "#"}, "rangemode": "tozero"}),
        },
    }
