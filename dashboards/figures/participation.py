"""Participation charts: tallies per option and per municipality, the participation map and turnout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboards.figures.fleet_map import outline
from dashboards.figures.style import base_layout
from twins.clock import to_rfc3339
from twins.series import SeriesSample
from twins.twin import Twin

_PALETTE = (
    "#1565c0",
    "#ef6c00",
    "#2e7d32",
    "#6a1b9a",
    "#c62828",
    "#00838f",
    "#8d6e63",
    "#546e7a",
    "#ad1457",
    "#9e9d24",
)


def option_bars(
    total: Mapping[str, int], options: Sequence[str], option_text: Mapping[str, str], title: str
) -> dict[str, Any]:
    """Votes per option."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [option_text.get(o, o) for o in options],
                "y": [total.get(o, 0) for o in options],
                "marker": {"color": list(_PALETTE[: len(options)])},
                "text": [total.get(o, 0) for o in options],
                "textposition": "auto",
            }
        ],
        "layout": base_layout(title, hovermode="closest"),
    }


def municipality_bars(
    by_municipality: Mapping[str, Mapping[str, int]], options: Sequence[str], option_text: Mapping[str, str], title: str
) -> dict[str, Any]:
    """Votes per municipality, stacked by option."""
    names = sorted(by_municipality)
    return {
        "data": [
            {
                "type": "bar",
                "name": option_text.get(o, o),
                "x": names,
                "y": [by_municipality[m].get(o, 0) for m in names],
                "marker": {"color": _PALETTE[i % len(_PALETTE)]},
            }
            for i, o in enumerate(options)
        ],
        "layout": base_layout(title, barmode="stack", hovermode="x"),
    }


def participation_map(benches: Sequence[Twin], by_bench: Mapping[str, Mapping[str, int]], title: str) -> dict[str, Any]:
    """Benches over the outline, sized by votes cast there (offline, like the fleet map)."""
    lons, lats = outline()
    votes = [sum(by_bench.get(b.bench_id, {}).values()) for b in benches]
    peak = max(votes, default=0) or 1
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": lons,
                "y": lats,
                "hoverinfo": "skip",
                "showlegend": False,
                "line": {"color": "#607d8b", "width": 1},
            },
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [b.attributes.lon for b in benches],
                "y": [b.attributes.lat for b in benches],
                "customdata": [b.bench_id for b in benches],
                # A label on the map (name and votes), so it reads without hovering over each circle.
                "text": [f"{b.attributes.name}: {v}" for b, v in zip(benches, votes, strict=True)],
                "textposition": "top center",
                "textfont": {"size": 11},
                "hoverinfo": "text",
                "marker": {"size": [8 + 30 * v / peak for v in votes], "color": "#1565c0", "opacity": 0.7},
                "showlegend": False,
            },
        ],
        "layout": base_layout(
            title,
            xaxis={"visible": False},
            yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1.39},
            hovermode="closest",
            height=420,
        ),
    }


def turnout(samples: Sequence[SeriesSample], title: str, label: str) -> dict[str, Any]:
    """Cumulative votes over time from votes per bucket."""
    running = 0.0
    ys: list[float] = []
    for s in samples:
        running += s.value or 0.0
        ys.append(running)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [to_rfc3339(s.ts) for s in samples],
                "y": ys,
                "name": label,
                "line": {"shape": "hv"},
            }
        ],
        "layout": base_layout(title, yaxis={"rangemode": "tozero"}),
    }
