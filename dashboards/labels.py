"""Translated chart labels (built per request, so they follow the viewer's language)."""

from __future__ import annotations

from flask_babel import gettext as _

from fleet.ops.alarms import ALARM_STATES
from twins.alarm_rules import SEVERITIES
from twins.metrics import METRICS


def health_labels() -> dict[str, str]:
    """Names of the health states."""
    return {
        "ok": _("OK"),
        "warning": _("Warning"),
        "critical": _("Critical"),
        "unknown": _("Unknown"),
        "benches": _("Benches"),
    }


def metric_labels() -> dict[str, str]:
    """Every metric's label in the viewer's language, by metric key (msgids from twins/metrics.py)."""
    return {m.key: _(m.translation_key) for m in METRICS}


def bench_chart_labels() -> dict[str, str]:
    """Titles of the bench charts, and trace names by metric key."""
    return {
        **metric_labels(),
        "battery": _("Battery"),
        "solar": _("Solar power"),
        "clear_sky": _("Clear-sky expectation"),
        "energy": _("Daily energy (Wh)"),
        "energy_title": _("Daily solar energy"),
        "load": _("Load (W)"),
        "ports": _("Charging ports"),
        "wifi": _("Wi-Fi"),
        "no_data": _("No data"),
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


def config_state_labels() -> dict[str, str]:
    """Where a desired config (or a poll on a bench) stands, by state name (``twins.twin.ConfigState`` and
    the push results' own states)."""
    return {
        "pending": _("pending"),
        "applied": _("applied"),
        "rejected": _("rejected"),
        "unknown": _("unknown"),
        "failed": _("failed"),
        "conflict": _("changed meanwhile"),
    }


def config_state_text(state: str, version: int) -> str:
    """A config state with its version, as the bench page shows it: "applied (v4)"."""
    return str(_("%(state)s (v%(version)d)", state=config_state_labels().get(state, state), version=version))


def attribute_labels() -> dict[str, str]:
    """Names of a bench's attributes (``twins.twin.Attributes``) and twin section versions (``Twin.versions``)."""
    return {
        "name": _("Name"),
        "municipality": _("Municipality"),
        "entity": _("Entity"),
        "canton": _("Canton"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "altitude_m": _("Altitude (m)"),
        "installed": _("Installed"),
        "telemetry": _("Telemetry"),
        "reported": _("Reported state"),
        "desired": _("Desired configuration"),
        "connectivity": _("Connectivity"),
    }


def alarm_order() -> dict[str, list[str]]:
    """Severities worst first and states as a crew works them (the alarms page sorts by them)."""
    return {"severity": list(SEVERITIES), "state": list(ALARM_STATES)}


def alarm_labels() -> dict[str, dict[str, str]]:
    """Alarm severities, states and rule names (by code, ``twins.alarm_rules.RULES``) in the viewer's language."""
    return {
        "severity": {
            "critical": _("critical"),
            "major": _("major"),
            "minor": _("minor"),
            "warning": _("warning"),
        },
        "state": {"active": _("active"), "acknowledged": _("acknowledged"), "cleared": _("cleared")},
        "rule": {
            "battery_critical": _("Battery critical"),
            "battery_low": _("Battery low"),
            "battery_temperature": _("Battery temperature out of range"),
            "offline": _("Bench offline"),
            "frozen_sensor": _("Frozen sensor"),
            "solar_yield_low": _("Solar yield low (soiled or shaded)"),
            "port_stopped": _("Port without sessions"),
            "tamper": _("Tamper"),
            "config_rejected": _("Config rejected"),
            "vote_tally_mismatch": _("Vote tally mismatch"),
            "votes_suspect": _("Implausible vote rate"),
        },
    }


def role_labels() -> dict[str, str]:
    """Names of the user roles (``fleet.auth.store.ROLES``)."""
    return {"admin": _("administrator"), "maintenance": _("maintenance"), "municipality": _("municipality")}


def rollout_labels() -> dict[str, dict[str, str]]:
    """Rollout kinds, statuses, per-bench states and operator actions (``fleet.ops.rollout_model``)."""
    return {
        "kind": {"config": _("configuration"), "firmware": _("firmware")},
        "status": {
            "running": _("running"),
            "paused": _("paused"),
            "halted": _("halted"),
            "aborted": _("aborted"),
            "completed": _("completed"),
            "rolled_back": _("rolled back"),
        },
        "state": {
            "queued": _("queued"),
            "pending": _("pending"),
            "applied": _("applied"),
            "failed": _("failed"),
            "rejected": _("rejected"),
            "rolled_back": _("rolled back"),
        },
        "action": {"pause": _("Pause"), "resume": _("Resume"), "abort": _("Abort"), "rollback": _("Roll back")},
    }
