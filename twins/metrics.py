"""The telemetry metrics: one row per metric, and everything else (points, series, summaries, charts, backfill)
derives from this table.

Each metric has one spelling, its ``key`` (``battery.soc_pct``): the API field of
``GET /api/benches/{id}/series?field=...``, the field name in the TSDB (``Metric.field``) and the key
the dashboards look it up by. A ``value_fn`` reads it from a ``Telemetry`` sample.

``value_fn`` uses only attribute reads, ``sum`` and comprehensions over ``ports``: the backfill
(simulator/backfill_run.py) hands it a view whose leaves are whole numpy columns and gets a whole column
back, so history and ingestion cannot disagree (tests/simulator/test_backfill_tsdb.py holds them equal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from twins.messages import PortKind, PortReading, Telemetry

MetricKind = Literal["gauge", "counter"]
ChartGroup = Literal["battery", "solar", "load", "ports", "wifi"]
MetricValue = float | int


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One telemetry metric (in the style of Home Assistant's ``SensorEntityDescription``)."""

    key: str
    """The one spelling: API series field, TSDB field and dashboard key (``battery.soc_pct``)."""
    unit: str
    """Unit symbol as shown on axes (``""`` for a count)."""
    kind: MetricKind
    """``gauge`` (a level now) or ``counter`` (counts up, reset at the bench's midnight)."""
    label: str
    """English label; also the gettext msgid the dashboards translate."""
    value_fn: Callable[[Telemetry], MetricValue | None]
    """The value in a sample; None when the sample has nothing to say (no port of that kind)."""
    chart: ChartGroup | None = None
    """The bench-page chart that draws it, if any (traces in table order)."""
    summary: bool = False
    """Whether the twin summary JSON (``GET /api/benches``, live ``twin`` events) carries it, under its key."""
    fleet_column: bool = False
    """Whether the fleet page's compact columns carry it."""
    port_sum: PortSum | None = None
    """For a port metric, what it sums (its ``value_fn`` is derived from this): ingestion sums every kind's
    readings in one pass over the ports instead of one pass per metric (twins/series.py)."""
    path: str | None = None
    """For a metric that is one attribute of a sample, its dotted path (its ``value_fn`` is ``attrgetter(path)``):
    ingestion reads all of them with one ``attrgetter`` call (twins/series.py)."""

    @property
    def field(self) -> str:
        """The TSDB field name: the key itself, so the stored series reads as the API asks for it."""
        return self.key

    @property
    def translation_key(self) -> str:
        """The gettext msgid of the label (gettext keys messages by their English text)."""
        return self.label


def N_(msgid: str) -> str:  # noqa: N802 -- the gettext convention for gettext_noop
    """Mark ``msgid`` for gettext extraction (``pybabel extract -k N_``); the dashboards translate it on display."""
    return msgid


#: What a per-kind port metric sums, and the sum's start: a float for power, an int for counts (``active`` is a
#: bool, which sums to the number of ports in use).
PortReadingName = Literal["power_w", "active", "sessions_today"]
PORT_READINGS: Mapping[PortReadingName, MetricValue] = {"power_w": 0.0, "active": 0, "sessions_today": 0}


@dataclass(frozen=True, slots=True)
class PortSum:
    """A metric that sums one reading over the ports of one kind (absent when the bench has no such port), or
    over every port (``kind`` None: present, as the sum's start, on a bench without ports)."""

    kind: PortKind | None
    reading: PortReadingName


def _port_sum(spec: PortSum) -> Callable[[Telemetry], MetricValue | None]:
    """The ``value_fn`` of a port metric, derived from its ``PortSum``."""
    start = PORT_READINGS[spec.reading]

    def value(sample: Telemetry) -> MetricValue | None:
        ports: list[PortReading] = [p for p in sample.ports if spec.kind is None or p.kind == spec.kind]
        return sum((getattr(p, spec.reading) for p in ports), start) if ports or spec.kind is None else None

    return value


def _port_metric(key: str, unit: str, kind: MetricKind, label: str, spec: PortSum, **more: Any) -> Metric:
    return Metric(key=key, unit=unit, kind=kind, label=label, value_fn=_port_sum(spec), port_sum=spec, **more)


def _reading(key: str, unit: str, kind: MetricKind, label: str, **more: Any) -> Metric:
    """A metric that is the sample's attribute at the path its key spells (``battery.soc_pct``)."""
    return Metric(key=key, unit=unit, kind=kind, label=label, value_fn=attrgetter(key), path=key, **more)


#: Metrics the dashboards name directly (the bench page's "Now" card, the fleet table and map); in METRICS too.
BATTERY_SOC = _reading(
    "battery.soc_pct", "%", "gauge", N_("State of charge (%)"), chart="battery", summary=True, fleet_column=True
)

BATTERY_TEMP = _reading("battery.temp_c", "°C", "gauge", N_("Temperature (°C)"), chart="battery", summary=True)

LOAD_POWER = _reading("load.power_w", "W", "gauge", N_("Load (W)"), chart="load", summary=True, fleet_column=True)

WIFI_CLIENTS = _reading("wifi.clients", "", "gauge", N_("Wi-Fi clients"), chart="wifi", summary=True)

SOLAR_POWER = _reading(
    "solar.power_w", "W", "gauge", N_("Solar power (W)"), chart="solar", summary=True, fleet_column=True
)

#: Metrics that alarms and reports read from the TSDB by name (fleet/ops/alarm_job.py, fleet/reports); in METRICS.
BATTERY_VOLTAGE = _reading("battery.voltage_v", "V", "gauge", N_("Battery voltage (V)"))

BATTERY_CURRENT = _reading("battery.current_a", "A", "gauge", N_("Battery current (A)"))

WIFI_SESSIONS = _reading("wifi.sessions_today", "", "counter", N_("Wi-Fi sessions today"))

SOLAR_ENERGY = _reading("solar.energy_today_wh", "Wh", "counter", N_("Solar energy today (Wh)"), summary=True)

#: Every telemetry metric, in the order charts draw them.
METRICS: tuple[Metric, ...] = (
    BATTERY_SOC,
    BATTERY_TEMP,
    BATTERY_VOLTAGE,
    BATTERY_CURRENT,
    SOLAR_POWER,
    SOLAR_ENERGY,
    LOAD_POWER,
    _port_metric(
        "ports.power_w", "W", "gauge", N_("Port power (W)"), PortSum(None, "power_w"), chart="ports", summary=True
    ),
    _port_metric(
        "ports.sessions_today",
        "",
        "counter",
        N_("Sessions today"),
        PortSum(None, "sessions_today"),
        chart="ports",
        summary=True,
    ),
    _port_metric("ports.usb.power_w", "W", "gauge", N_("USB power (W)"), PortSum("usb", "power_w")),
    _port_metric("ports.usb.active", "", "gauge", N_("USB ports in use"), PortSum("usb", "active")),
    _port_metric("ports.usb.sessions_today", "", "counter", N_("USB sessions today"), PortSum("usb", "sessions_today")),
    _port_metric("ports.wireless.power_w", "W", "gauge", N_("Wireless pad power (W)"), PortSum("wireless", "power_w")),
    _port_metric("ports.wireless.active", "", "gauge", N_("Wireless pad ports in use"), PortSum("wireless", "active")),
    _port_metric(
        "ports.wireless.sessions_today",
        "",
        "counter",
        N_("Wireless pad sessions today"),
        PortSum("wireless", "sessions_today"),
    ),
    _port_metric("ports.scooter.power_w", "W", "gauge", N_("Scooter power (W)"), PortSum("scooter", "power_w")),
    _port_metric("ports.scooter.active", "", "gauge", N_("Scooter ports in use"), PortSum("scooter", "active")),
    _port_metric(
        "ports.scooter.sessions_today",
        "",
        "counter",
        N_("Scooter sessions today"),
        PortSum("scooter", "sessions_today"),
    ),
    WIFI_CLIENTS,
    WIFI_SESSIONS,
)

#: The metrics by key.
BY_KEY: Mapping[str, Metric] = {m.key: m for m in METRICS}
