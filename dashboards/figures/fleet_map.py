"""The fleet map: every bench coloured by health and sized by activity, over an outline of Bosnia and Herzegovina.

Offline (no tile URL) it is a WebGL ``scattergl`` on longitude/latitude axes with the bundled outline, so
nothing is fetched from the internet; with a tile URL it is a ``scattermap`` over those raster tiles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from dashboards.figures.style import HEALTH_COLOURS
from twins.metrics import LOAD_POWER

OUTLINE_PATH = Path(__file__).resolve().parents[1] / "static" / "bih-outline.geojson"
CENTRE = (17.8, 44.2)  # lon, lat of the middle of the country
LEGEND_STATES = ("ok", "warning", "critical")  # the states twins.health yields; "unknown" is only a fallback


@cache
def outline() -> tuple[list[float | None], list[float | None]]:
    """Longitudes and latitudes of the bundled outline (rings separated by None for Plotly)."""
    doc = json.loads(OUTLINE_PATH.read_text(encoding="utf-8"))
    lons: list[float | None] = []
    lats: list[float | None] = []
    for feature in doc["features"]:
        for ring in feature["geometry"]["coordinates"]:
            for lon, lat in ring:
                lons.append(lon)
                lats.append(lat)
            lons.append(None)
            lats.append(None)
    return lons, lats


def marker_size(load_w: float | None) -> float:
    """Marker diameter in px: 6 for an idle or silent bench, up to 20 at 70 W load."""
    return 6.0 if load_w is None else 6.0 + min(load_w, 70.0) / 5.0


def _markers(columns: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    return {
        "color": [HEALTH_COLOURS.get(h, HEALTH_COLOURS["unknown"]) for h in columns["health"]],
        "size": [marker_size(p) for p in columns[LOAD_POWER.key]],
        "line": {"width": 0.5, "color": "#333"},
    }


def _hover(columns: Mapping[str, Sequence[Any]]) -> list[str]:
    return [
        f"{n} ({m})<br>{h}" for n, m, h in zip(columns["name"], columns["municipality"], columns["health"], strict=True)
    ]


def _legend(labels: Mapping[str, str], kind: str) -> list[dict[str, Any]]:
    # One empty trace per status gives a legend although every bench lives in one WebGL trace.
    xs = {"x": [None], "y": [None]} if kind == "scattergl" else {"lon": [None], "lat": [None]}
    return [
        {
            "type": kind,
            "mode": "markers",
            **xs,
            "name": labels.get(s, s),
            "marker": {"color": HEALTH_COLOURS[s], "size": 10},
        }
        for s in LEGEND_STATES
    ]


def fleet_map(
    columns: Mapping[str, Sequence[Any]],
    labels: Mapping[str, str],
    tile_url: str | None = None,
    attribution: str = "",
    include_points: bool = True,
) -> dict[str, Any]:
    """The figure; trace index 0 holds the benches (``customdata`` = bench id), so live updates can restyle it.

    ``include_points=False`` leaves the bench arrays empty for a client that fills them from the columns.
    """
    if not include_points:
        columns = {k: [] for k in columns}
    benches = {
        "mode": "markers",
        "name": labels.get("benches", "benches"),
        "customdata": list(columns["bench_id"]),
        "hovertext": _hover(columns),
        "hoverinfo": "text",
        "marker": _markers(columns),
        "showlegend": False,
    }
    if tile_url:
        return _tiled(columns, benches, labels, tile_url, attribution)
    lons, lats = outline()
    return {
        "data": [
            {"type": "scattergl", "x": list(columns["lon"]), "y": list(columns["lat"]), **benches},
            {
                "type": "scattergl",
                "mode": "lines",
                "x": lons,
                "y": lats,
                "line": {"color": "#607d8b", "width": 1.5},
                "hoverinfo": "skip",
                "showlegend": False,
                "name": "outline",
            },
            *_legend(labels, "scattergl"),
        ],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False, "range": [15.6, 19.8]},
            # Degrees of longitude are shorter than degrees of latitude at 44° N.
            "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1 / math.cos(math.radians(CENTRE[1]))},
            "legend": {"orientation": "h", "x": 0, "y": 0},
            "plot_bgcolor": "#f4f7f9",
            "dragmode": "pan",
            "height": 520,
            "meta": {"colours": HEALTH_COLOURS, "kind": "offline"},
        },
    }


def _tiled(
    columns: Mapping[str, Sequence[Any]],
    benches: dict[str, Any],
    labels: Mapping[str, str],
    tile_url: str,
    attribution: str,
) -> dict[str, Any]:
    return {
        "data": [
            {"type": "scattermap", "lon": list(columns["lon"]), "lat": list(columns["lat"]), **benches},
            *_legend(labels, "scattermap"),
        ],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "map": {
                "style": "white-bg",
                "center": {"lon": CENTRE[0], "lat": CENTRE[1]},
                "zoom": 6.3,
                "layers": [
                    {"sourcetype": "raster", "source": [tile_url], "below": "traces", "sourceattribution": attribution}
                ],
            },
            "legend": {"orientation": "h", "x": 0, "y": 0},
            "height": 520,
            "meta": {"colours": HEALTH_COLOURS, "kind": "tiles"},
        },
    }
