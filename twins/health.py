"""Derived health of a twin: a table of rules, each giving zero or one reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from twins.twin import Twin

Severity = Literal["ok", "warning", "critical"]
_RANK: dict[Severity, int] = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class HealthReason:
    """One thing wrong with a bench."""

    code: str
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class Health:
    """Overall status (the worst reason) and every reason."""

    status: Severity
    reasons: tuple[HealthReason, ...]

    def as_doc(self) -> dict[str, object]:
        """JSON form for the API."""
        return {
            "status": self.status,
            "reasons": [{"code": r.code, "severity": r.severity, "message": r.message} for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Limits of the health rules; defaults suit a 12.8 V LiFePO4 bench reporting every minute."""

    stale_intervals: float = 3.0
    stale_critical: timedelta = timedelta(hours=1)
    battery_low_pct: float = 20.0
    battery_critical_pct: float = 10.0
    battery_hot_c: float = 45.0
    battery_too_hot_c: float = 55.0
    battery_cold_c: float = -10.0
    vote_mismatch_grace: timedelta = timedelta(minutes=10)


Rule = Callable[["Twin", datetime, HealthThresholds], HealthReason | None]


def _stale(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    last = twin.connectivity.last_seen
    if last is None:
        return HealthReason("never_seen", "warning", "no message received from this bench yet")
    age = now - last
    expected = timedelta(seconds=twin.expected_interval_s() * th.stale_intervals)
    if age > th.stale_critical:
        return HealthReason("stale", "critical", f"silent for {_human(age)}")
    if age > expected:
        return HealthReason(
            "stale", "warning", f"silent for {_human(age)} (expected every {twin.expected_interval_s()} s)"
        )
    return None


def _offline(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.connectivity.online is False:
        why = twin.connectivity.reason or "connection lost"
        return HealthReason("offline", "critical", f"offline: {why}")
    return None


def _battery_low(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.telemetry is None:
        return None
    soc = twin.telemetry.battery.soc_pct
    if soc < th.battery_critical_pct:
        return HealthReason("battery_low", "critical", f"battery at {soc:.0f} %")
    if soc < th.battery_low_pct:
        return HealthReason("battery_low", "warning", f"battery at {soc:.0f} %")
    return None


def _battery_temp(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.telemetry is None:
        return None
    temp = twin.telemetry.battery.temp_c
    if temp >= th.battery_too_hot_c:
        return HealthReason("battery_temperature", "critical", f"battery at {temp:.1f} °C")
    if temp >= th.battery_hot_c:
        return HealthReason("battery_temperature", "warning", f"battery at {temp:.1f} °C")
    if temp <= th.battery_cold_c:
        return HealthReason("battery_temperature", "warning", f"battery at {temp:.1f} °C, charging inhibited")
    return None


def _vote_mismatch(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    since = twin.votes_mismatch_since
    if since is None or now - since < th.vote_mismatch_grace:
        return None
    return HealthReason(
        "vote_tally_mismatch",
        "warning",
        f"bench vote counters differ from counted vote events since {since:%Y-%m-%d %H:%M} UTC",
    )


def _votes_suspect(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if not twin.votes_suspect:
        return None
    return HealthReason(
        "votes_suspect", "warning", f"{twin.votes_suspect} votes held as suspect (implausible rate): review them"
    )


def _config_rejected(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    report = twin.reported.config if twin.reported else None
    if report is not None and report.status == "rejected" and report.version == twin.desired_version:
        return HealthReason("config_rejected", "warning", f"config v{report.version} rejected: {report.error}")
    return None


#: The rules, in the order their reasons are listed.
RULES: tuple[Rule, ...] = (
    _offline,
    _stale,
    _battery_low,
    _battery_temp,
    _vote_mismatch,
    _votes_suspect,
    _config_rejected,
)


def evaluate(twin: Twin, now: datetime, thresholds: HealthThresholds | None = None) -> Health:
    """Run every rule against ``twin`` at time ``now``."""
    th = thresholds or HealthThresholds()
    reasons = tuple(r for rule in RULES if (r := rule(twin, now, th)) is not None)
    status: Severity = max((r.severity for r in reasons), key=_RANK.__getitem__, default="ok")
    return Health(status, reasons)


def _human(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
