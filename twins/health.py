"""Derived health of a twin: a table of rules, each giving zero or one reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from twins.reasons import ParamValue, Reason, utc_param

if TYPE_CHECKING:
    from twins.twin import Twin

Severity = Literal["ok", "warning", "critical"]
_RANK: dict[Severity, int] = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class HealthReason:
    """One thing wrong with a bench: the rule's code, a severity and the text as a code with parameters."""

    code: str
    severity: Severity
    text: Reason

    @property
    def message(self) -> str:
        """The English text."""
        return self.text.english()

    def as_doc(self) -> dict[str, object]:
        """JSON form: code, severity, English message, and the text's code and parameters (for translation)."""
        return {"code": self.code, "severity": self.severity, "message": self.message, "text": self.text.as_doc()}


@dataclass(frozen=True, slots=True)
class Health:
    """Overall status (the worst reason) and every reason."""

    status: Severity
    reasons: tuple[HealthReason, ...]

    def as_doc(self) -> dict[str, object]:
        """JSON form for the API."""
        return {
            "status": self.status,
            "reasons": [r.as_doc() for r in self.reasons],
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
        return HealthReason("never_seen", "warning", Reason("never_seen"))
    age = (now - last).total_seconds()
    interval = twin.expected_interval_s()
    if age > th.stale_critical.total_seconds():
        return HealthReason("stale", "critical", Reason("stale", {"age": age}))
    if age > interval * th.stale_intervals:
        return HealthReason("stale", "warning", Reason("stale_expected", {"age": age, "interval": interval}))
    return None


def _offline(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.connectivity.online is False:
        why = twin.connectivity.reason or "connection lost"
        return HealthReason("offline", "critical", Reason("offline", {"why": why}))
    return None


def _battery_low(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.telemetry is None:
        return None
    soc = twin.telemetry.battery.soc_pct
    if soc < th.battery_low_pct:
        severity: Severity = "critical" if soc < th.battery_critical_pct else "warning"
        return HealthReason("battery_low", severity, Reason("battery_at", {"soc": soc}))
    return None


def _battery_temp(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if twin.telemetry is None:
        return None
    temp = twin.telemetry.battery.temp_c
    if temp >= th.battery_too_hot_c:
        return HealthReason("battery_temperature", "critical", Reason("battery_temp", {"temp": temp}))
    if temp >= th.battery_hot_c:
        return HealthReason("battery_temperature", "warning", Reason("battery_temp", {"temp": temp}))
    if temp <= th.battery_cold_c:
        return HealthReason("battery_temperature", "warning", Reason("battery_cold", {"temp": temp}))
    return None


def _vote_mismatch(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    since = twin.votes_mismatch_since
    if since is None or now - since < th.vote_mismatch_grace:
        return None
    return HealthReason("vote_tally_mismatch", "warning", Reason("votes_mismatch", {"since": utc_param(since)}))


def _votes_suspect(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    if not twin.votes_suspect:
        return None
    return HealthReason("votes_suspect", "warning", Reason("votes_suspect", {"held": twin.votes_suspect}))


def _config_rejected(twin: Twin, now: datetime, th: HealthThresholds) -> HealthReason | None:
    report = twin.reported.config if twin.reported else None
    if report is not None and report.status == "rejected" and report.version == twin.desired_version:
        params: dict[str, ParamValue] = {"version": report.version, "error": str(report.error)}
        return HealthReason("config_rejected", "warning", Reason("config_rejected", params))
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
