"""Translated chart labels (built per request, so they follow the viewer's language)."""

from __future__ import annotations

from flask_babel import gettext as _


def health_labels() -> dict[str, str]:
    """Names of the health states."""
    return {
        "ok": _("OK"),
        "warning": _("Warning"),
        "critical": _("Critical"),
        "unknown": _("Unknown"),
        "benches": _("Benches"),
    }


def bench_chart_labels() -> dict[str, str]:
    """Titles and trace names of the bench charts."""
    return {
        "battery": _("Battery"),
        "soc": _("State of charge (%)"),
        "temp": _("Temperature (°C)"),
        "solar": _("Solar power"),
        "solar_power": _("Solar power (W)"),
        "clear_sky": _("Clear-sky expectation"),
        "energy": _("Daily energy (Wh)"),
        "energy_title": _("Daily solar energy"),
        "load": _("Load (W)"),
        "ports": _("Charging ports"),
        "ports_power": _("Port power (W)"),
        "sessions": _("Sessions today"),
        "wifi": _("Wi-Fi"),
        "wifi_clients": _("Wi-Fi clients"),
    }


def participation_labels() -> dict[str, str]:
    """Titles of the participation charts."""
    return {
        "options": _("Votes per option"),
        "municipalities": _("Votes per municipality"),
        "map": _("Participation by bench"),
        "turnout": _("Turnout over time"),
        "turnout_missing": _("Turnout over time (not available from this fleet service yet)"),
        "votes": _("Votes"),
    }
