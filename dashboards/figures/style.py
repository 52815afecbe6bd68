"""Shared look: health colours and the base layout of every chart."""

from __future__ import annotations

from typing import Any

#: Health status → marker colour (colour-blind-safe-ish: green, amber, red, grey for unknown).
HEALTH_COLOURS: dict[str, str] = {"ok": "#2e7d32", "warning": "#f9a825", "critical": "#c62828", "unknown": "#9e9e9e"}


def base_layout(title: str, **extra: Any) -> dict[str, Any]:
    """A compact layout with a title and a legend on top."""
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
        "height": 300,
    }
    layout.update(extra)
    return layout
