"""Health reasons and alarm messages as a stable code with named parameters, and their English texts.

The core stays free of gettext: a rule answers a ``Reason`` (code + parameters); ``english`` renders it for
the API's ``message``, the CLI and e-mail, and the dashboards translate the same msgid (marked with ``N_``
for extraction) and format each parameter in the viewer's language by its ``Kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from twins.metrics import N_

ParamValue = str | int | float
#: How a parameter is shown: a whole number, one decimal, a fraction as a percentage, a UTC time (ISO 8601
#: text), a duration in seconds, a word the dashboards translate (``TERMS``; unknown words stay as they
#: are), a comma-separated list of such words, or text shown as it came (a bench's own error message).
Kind = Literal["int", "dec1", "pct", "time", "duration", "term", "terms", "text"]


@dataclass(frozen=True, slots=True)
class ReasonText:
    """The English template of one reason code (``%(name)s`` placeholders) and the kind of each parameter."""

    template: str
    kinds: Mapping[str, Kind] = field(default_factory=dict)


#: Every reason and alarm message code, its English msgid and its parameters. Codes are stable: stored with
#: alarms and sent to clients; a changed text keeps its code.
TEXTS: dict[str, ReasonText] = {
    # Health (twins/health.py)
    "never_seen": ReasonText(N_("no message received from this bench yet")),
    "stale": ReasonText(N_("silent for %(age)s"), {"age": "duration"}),
    "stale_expected": ReasonText(
        N_("silent for %(age)s (expected every %(interval)s s)"), {"age": "duration", "interval": "int"}
    ),
    "offline": ReasonText(N_("offline: %(why)s"), {"why": "term"}),
    "battery_at": ReasonText(N_("battery at %(soc)s %%"), {"soc": "int"}),
    "battery_temp": ReasonText(N_("battery at %(temp)s °C"), {"temp": "dec1"}),
    "battery_cold": ReasonText(N_("battery at %(temp)s °C, charging inhibited"), {"temp": "dec1"}),
    "votes_mismatch": ReasonText(
        N_("bench vote counters differ from counted vote events since %(since)s"), {"since": "time"}
    ),
    "votes_suspect": ReasonText(N_("%(held)s votes held as suspect (implausible rate): review them"), {"held": "int"}),
    "config_rejected": ReasonText(N_("config v%(version)s rejected: %(error)s"), {"version": "int", "error": "text"}),
    # Alarms (twins/alarm_rules.py)
    # One decimal: a whole number rounds 19.9 up to the very limit it is below ("at 20 % (below 20 %)").
    "alarm_battery_below": ReasonText(
        N_("battery at %(soc)s %% (below %(limit)s %%)"), {"soc": "dec1", "limit": "int"}
    ),
    "alarm_battery_hot": ReasonText(
        N_("battery at %(temp)s °C (limit %(limit)s °C)"), {"temp": "dec1", "limit": "int"}
    ),
    "alarm_battery_cold": ReasonText(
        N_("battery at %(temp)s °C (limit %(limit)s °C), charging inhibited"), {"temp": "dec1", "limit": "int"}
    ),
    "alarm_offline_since": ReasonText(N_("offline since %(since)s: %(why)s"), {"since": "time", "why": "term"}),
    "alarm_silent_since": ReasonText(N_("silent since %(since)s"), {"since": "time"}),
    "alarm_sensor_frozen": ReasonText(
        N_("%(sensors)s sensor unchanged for %(minutes)s min"), {"sensors": "terms", "minutes": "int"}
    ),
    "alarm_yield_low": ReasonText(
        N_(
            "solar yield %(share)s of the clear-sky expectation for %(days)s days (below %(limit)s): "
            "soiled or shaded panel?"
        ),
        {"share": "pct", "days": "int", "limit": "pct"},
    ),
    "alarm_port_stopped": ReasonText(
        N_("no %(kind)s session in %(hours)s h while %(expected)s were expected (the other ports had %(others)s)"),
        {"kind": "term", "hours": "int", "expected": "int", "others": "int"},
    ),
    "alarm_port_still_stopped": ReasonText(
        N_("still no %(kind)s session in %(hours)s h"), {"kind": "term", "hours": "int"}
    ),
    "alarm_tamper": ReasonText(N_("tamper sensor fired at %(at)s"), {"at": "time"}),
}

#: Words that appear as parameters (sensors, port kinds, why a bench went offline), translated on display.
TERMS: tuple[str, ...] = (
    N_("battery"),
    N_("solar"),
    N_("usb"),
    N_("wireless"),
    N_("scooter"),
    N_("connection lost"),
    N_("shutdown"),
)


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason or alarm message: its code (a key of ``TEXTS``) and named parameters."""

    code: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def english(self) -> str:
        """The English text (API ``message``, CLI, e-mail)."""
        text = TEXTS[self.code]
        return text.template % {k: _english(text.kinds.get(k, "text"), v) for k, v in self.params.items()}

    def as_doc(self) -> dict[str, object]:
        """JSON form: ``{"code", "params"}``."""
        return {"code": self.code, "params": dict(self.params)}


def utc_param(at: datetime) -> str:
    """A time parameter: ISO 8601 in UTC, to the minute."""
    return at.strftime("%Y-%m-%dT%H:%MZ")


def human_duration(seconds: float) -> str:
    """A duration in its largest whole unit, in English ("2 h", "15 min")."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if whole >= size:
            return f"{whole // size} {unit}"
    return f"{whole} s"


def _english(kind: Kind, value: ParamValue) -> str:
    match kind:
        case "int":
            return f"{float(value):.0f}"
        case "dec1":
            return f"{float(value):.1f}"
        case "pct":
            return f"{float(value):.0%}"
        case "time":
            return f"{str(value)[:10]} {str(value)[11:16]} UTC"
        case "duration":
            return human_duration(float(value))
        case _:
            return str(value)
