"""The alarm rules: one table, each rule a pure check of what is known about a bench, with a severity.

A rule looks at ``AlarmFacts`` (the twin plus the few histories a rule needs, gathered by the fleet's
alarm job from the TSDB and SQL) and the bench's ``AlarmThresholds`` (defaults here, overridden per
municipality and per bench in SQL). It answers a message (a ``Reason``: code and parameters, translated by
the dashboards) while its condition holds, else None. The
lifecycle (one alarm per bench and rule, flap suppression, acknowledgement) lives in fleet/ops/alarms.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from twins.health import HealthThresholds
from twins.reasons import ParamValue, Reason, utc_param

if TYPE_CHECKING:
    from twins.twin import Twin

AlarmSeverity = Literal["critical", "major", "minor", "warning"]
SEVERITIES: tuple[AlarmSeverity, ...] = ("critical", "major", "minor", "warning")

# The health thresholds are the defaults where both speak of the same limit: a limit lives once.
_HEALTH = HealthThresholds()


@dataclass(frozen=True, slots=True)
class AlarmThresholds:
    """Limits of the alarm rules (each overridable per municipality and per bench by name)."""

    battery_low_pct: float = _HEALTH.battery_low_pct
    battery_critical_pct: float = _HEALTH.battery_critical_pct
    battery_hot_c: float = _HEALTH.battery_hot_c
    battery_cold_c: float = _HEALTH.battery_cold_c
    offline_minutes: float = 15.0
    frozen_minutes: float = 30.0
    frozen_min_samples: float = 6.0
    yield_fraction: float = 0.3
    yield_days: float = 3.0
    port_window_hours: float = 12.0
    port_expected_sessions: float = 3.0
    tamper_minutes: float = 60.0
    vote_mismatch_minutes: float = _HEALTH.vote_mismatch_grace.total_seconds() / 60

    def with_overrides(self, overrides: Mapping[str, float]) -> AlarmThresholds:
        """A copy with ``overrides`` applied; ValueError naming an unknown threshold."""
        unknown = sorted(set(overrides) - THRESHOLD_NAMES)
        if unknown:
            raise ValueError(
                f"unknown alarm threshold(s): {', '.join(unknown)}; known: {', '.join(sorted(THRESHOLD_NAMES))}"
            )
        return replace(self, **{k: float(v) for k, v in overrides.items()})


THRESHOLD_NAMES = frozenset(f.name for f in fields(AlarmThresholds))


@dataclass(frozen=True, slots=True)
class DayYield:
    """One whole day's solar energy: measured and what a clear sky would have given, Wh."""

    day: date
    actual_wh: float
    expected_wh: float


@dataclass(frozen=True, slots=True)
class AlarmFacts:
    """What the rules know about one bench at ``now``."""

    twin: Twin
    now: datetime
    #: Readings over the last ``frozen_minutes`` per sensor and field (bucket means, None = no sample); the
    #: first field of a sensor is its flow (battery current, solar power).
    sensor_series: Mapping[str, Mapping[str, tuple[float | None, ...]]] = field(default_factory=dict)
    #: The last ``yield_days`` whole days, oldest first (days without data left out).
    daily_yield: tuple[DayYield, ...] = ()
    #: Sessions started per port kind in the last ``port_window_hours`` (None: too little data).
    port_sessions: Mapping[str, int | None] = field(default_factory=dict)
    #: Each port kind's share of the sessions across the fleet today (how much each kind is used).
    port_share: Mapping[str, float] = field(default_factory=dict)
    #: When the tamper sensor last fired.
    last_tamper_at: datetime | None = None


Check = Callable[[AlarmFacts, AlarmThresholds], Reason | None]


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """One alarm: its code, severity, check, and how long a change must last before it counts (flap suppression)."""

    code: str
    severity: AlarmSeverity
    title: str
    check: Check
    raise_after: timedelta = timedelta(minutes=2)
    clear_after: timedelta = timedelta(minutes=5)
    #: Once raised, the alarm holds while this does (default: ``check``); a weaker condition is hysteresis.
    holds: Check | None = None
    #: Reads TSDB histories (``sensor_series``, ``daily_yield``, ``port_sessions``): skipped while they are unknown.
    history: bool = False


def _soc(facts: AlarmFacts) -> float | None:
    return facts.twin.telemetry.battery.soc_pct if facts.twin.telemetry else None


def _battery_low(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    soc = _soc(facts)
    # Below the critical limit the critical rule speaks alone.
    if soc is not None and th.battery_critical_pct <= soc < th.battery_low_pct:
        return Reason("alarm_battery_below", {"soc": soc, "limit": th.battery_low_pct})
    return None


def _battery_critical(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    soc = _soc(facts)
    if soc is not None and soc < th.battery_critical_pct:
        return Reason("alarm_battery_below", {"soc": soc, "limit": th.battery_critical_pct})
    return None


def _battery_temperature(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    if facts.twin.telemetry is None:
        return None
    temp = facts.twin.telemetry.battery.temp_c
    if temp >= th.battery_hot_c:
        return Reason("alarm_battery_hot", {"temp": temp, "limit": th.battery_hot_c})
    if temp <= th.battery_cold_c:
        return Reason("alarm_battery_cold", {"temp": temp, "limit": th.battery_cold_c})
    return None


def _offline(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    conn = facts.twin.connectivity
    limit = timedelta(minutes=th.offline_minutes)
    if conn.online is False and conn.status_ts is not None and facts.now - conn.status_ts >= limit:
        why = conn.reason or "connection lost"
        return Reason("alarm_offline_since", {"since": utc_param(conn.status_ts), "why": why})
    if conn.last_seen is not None and facts.now - conn.last_seen >= limit:
        return Reason("alarm_silent_since", {"since": utc_param(conn.last_seen)})
    return None


def _stuck(values: tuple[float | None, ...], th: AlarmThresholds) -> bool:
    seen = [v for v in values if v is not None]
    return len(seen) >= th.frozen_min_samples and max(seen) == min(seen)


def _frozen_sensor(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    # Every field of one sensor stuck while its flow is not zero: with current flowing the charge must
    # change, with power flowing the day's energy must grow. A real sensor always wanders a little.
    frozen = []
    for sensor, series in sorted(facts.sensor_series.items()):
        values = list(series.values())
        flow = [v for v in values[0] if v is not None] if values else []
        if values and all(_stuck(v, th) for v in values) and flow and flow[0] != 0:
            frozen.append(sensor)
    if frozen:
        return Reason("alarm_sensor_frozen", {"sensors": ", ".join(frozen), "minutes": th.frozen_minutes})
    return None


def _solar_yield(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    days = [d for d in facts.daily_yield if d.expected_wh > 0]
    if len(days) < th.yield_days:
        return None
    low = [d for d in days[-int(th.yield_days) :] if d.actual_wh < th.yield_fraction * d.expected_wh]
    if len(low) < th.yield_days:
        return None
    share = sum(d.actual_wh for d in low) / sum(d.expected_wh for d in low)
    return Reason("alarm_yield_low", {"share": share, "days": len(low), "limit": th.yield_fraction})


def _port_stopped(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    # A kind of port is used at its own pace (scooters far less than USB): from the sessions the bench's
    # other ports had and each kind's share across the fleet, this port should have had ``expected``;
    # none at all while at least ``port_expected_sessions`` were due means it stopped.
    known = {k: n for k, n in facts.port_sessions.items() if n is not None}
    for kind, count in sorted(known.items()):
        share = facts.port_share.get(kind, 0.0)
        others = sum(n for k, n in known.items() if k != kind)
        if count != 0 or not 0.0 < share < 1.0:
            continue
        expected = others * share / (1.0 - share)
        if expected >= th.port_expected_sessions:
            params: dict[str, ParamValue] = {
                "kind": kind,
                "hours": th.port_window_hours,
                "expected": expected,
                "others": others,
            }
            return Reason("alarm_port_stopped", params)
    return None


def _port_still_stopped(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    # Raised on strong evidence; held until a regularly used kind of port has a session again, so the alarm
    # does not clear just because the other ports went quiet for the night.
    for kind, count in sorted(facts.port_sessions.items()):
        if count == 0 and facts.port_share.get(kind, 0.0) >= 0.2:
            return Reason("alarm_port_still_stopped", {"kind": kind, "hours": th.port_window_hours})
    return None


def _tamper(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    at = facts.last_tamper_at
    if at is not None and facts.now - at < timedelta(minutes=th.tamper_minutes):
        return Reason("alarm_tamper", {"at": utc_param(at)})
    return None


def _config_rejected(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    twin = facts.twin
    report = twin.reported.config if twin.reported else None
    if report is not None and report.status == "rejected" and report.version == twin.desired_version:
        return Reason("config_rejected", {"version": report.version, "error": str(report.error)})
    return None


def _vote_mismatch(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    since = facts.twin.votes_mismatch_since
    if since is not None and facts.now - since >= timedelta(minutes=th.vote_mismatch_minutes):
        return Reason("votes_mismatch", {"since": utc_param(since)})
    return None


def _votes_suspect(facts: AlarmFacts, th: AlarmThresholds) -> Reason | None:
    held = facts.twin.votes_suspect
    return Reason("votes_suspect", {"held": held}) if held else None


_NOW = timedelta(0)

#: Every alarm rule. Event-like conditions (tamper, a rejected config) raise at once; the rest must hold a while.
RULES: tuple[AlarmRule, ...] = (
    AlarmRule("battery_critical", "critical", "Battery critical", _battery_critical),
    AlarmRule("battery_low", "minor", "Battery low", _battery_low),
    AlarmRule("battery_temperature", "major", "Battery temperature out of range", _battery_temperature),
    AlarmRule("offline", "major", "Bench offline", _offline, raise_after=_NOW, clear_after=timedelta(minutes=2)),
    AlarmRule("frozen_sensor", "minor", "Frozen sensor", _frozen_sensor, raise_after=_NOW, history=True),
    AlarmRule(
        "solar_yield_low", "minor", "Solar yield low (soiled or shaded)", _solar_yield, raise_after=_NOW, history=True
    ),
    AlarmRule(
        "port_stopped",
        "minor",
        "Port without sessions",
        _port_stopped,
        raise_after=_NOW,
        holds=_port_still_stopped,
        history=True,
    ),
    AlarmRule("tamper", "critical", "Tamper", _tamper, raise_after=_NOW, clear_after=_NOW),
    AlarmRule("config_rejected", "major", "Config rejected", _config_rejected, raise_after=_NOW, clear_after=_NOW),
    AlarmRule("vote_tally_mismatch", "warning", "Vote tally mismatch", _vote_mismatch, raise_after=_NOW),
    # Held votes are stored, not counted, until someone reviews them (issue 8): raised at once, cleared by the review.
    AlarmRule("votes_suspect", "major", "Implausible vote rate", _votes_suspect, raise_after=_NOW, clear_after=_NOW),
)
RULES_BY_CODE: dict[str, AlarmRule] = {r.code: r for r in RULES}
HISTORY_RULES = frozenset(r.code for r in RULES if r.history)
"""Rules that read TSDB histories."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule whose condition holds right now, with its message."""

    rule: AlarmRule
    reason: Reason

    @property
    def message(self) -> str:
        """The message in English."""
        return self.reason.english()


def evaluate(
    facts: AlarmFacts, thresholds: AlarmThresholds | None = None, raised: frozenset[str] = frozenset()
) -> dict[str, Finding]:
    """Every rule whose condition holds, by rule code (``raised``: rules with an alarm up, judged by ``holds``)."""
    th = thresholds or AlarmThresholds()
    found: dict[str, Finding] = {}
    for rule in RULES:
        check = rule.holds if rule.code in raised and rule.holds is not None else rule.check
        if (reason := check(facts, th)) is not None:
            found[rule.code] = Finding(rule, reason)
    return found
