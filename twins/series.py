"""Time-series points: the store-neutral shape of what goes into the TSDB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from twins.messages import Telemetry, VoteEvent

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point: measurement, tags (indexed strings), fields (values) and a UTC timestamp."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    ts: datetime


@dataclass(frozen=True, slots=True)
class SeriesSample:
    """One value of a downsampled series: bucket start and the mean in it (None for an empty bucket)."""

    ts: datetime
    value: float | None


def telemetry_points(sample: Telemetry, municipality: str) -> list[SeriesPoint]:
    """The TSDB points of one telemetry sample: one ``telemetry`` point and one ``port`` point per port."""
    tags = {"bench_id": sample.bench_id, "municipality": municipality}
    b, s, w = sample.battery, sample.solar, sample.wifi
    points = [
        SeriesPoint(
            "telemetry",
            tags,
            {
                "battery_soc_pct": b.soc_pct,
                "battery_voltage_v": b.voltage_v,
                "battery_current_a": b.current_a,
                "battery_temp_c": b.temp_c,
                "solar_power_w": s.power_w,
                "solar_energy_today_wh": s.energy_today_wh,
                "load_power_w": sample.load.power_w,
                "wifi_clients": w.clients,
                "wifi_sessions_today": w.sessions_today,
                "seq": sample.seq,
            },
            sample.ts,
        )
    ]
    for port in sample.ports:
        points.append(
            SeriesPoint(
                "port",
                {**tags, "port_id": port.id, "kind": port.kind},
                {"active": port.active, "power_w": port.power_w, "sessions_today": port.sessions_today},
                sample.ts,
            )
        )
    return points


def vote_point(event: VoteEvent, municipality: str) -> SeriesPoint:
    """The TSDB point of one counted vote (for turnout over time).

    Points with equal series and millisecond overwrite each other, and kiosks stamp whole seconds: the
    millisecond is taken from the event id, so two votes in one second rarely collide (1 in 1,000), and a
    redelivered vote lands on the same point again (turnout counts it once).
    """
    ts = event.ts.replace(microsecond=(event.id.int % 1000) * 1000)
    return SeriesPoint(
        "vote",
        {
            "bench_id": event.bench_id,
            "municipality": municipality,
            "poll_id": event.data.poll_id,
            "option": event.data.option,
        },
        {"count": 1},
        ts,
    )


#: API field names (``battery.soc_pct``) → (measurement, field key) in the TSDB.
SERIES_FIELDS: dict[str, tuple[str, str]] = {
    "battery.soc_pct": ("telemetry", "battery_soc_pct"),
    "battery.voltage_v": ("telemetry", "battery_voltage_v"),
    "battery.current_a": ("telemetry", "battery_current_a"),
    "battery.temp_c": ("telemetry", "battery_temp_c"),
    "solar.power_w": ("telemetry", "solar_power_w"),
    "solar.energy_today_wh": ("telemetry", "solar_energy_today_wh"),
    "load.power_w": ("telemetry", "load_power_w"),
    "wifi.clients": ("telemetry", "wifi_clients"),
    "wifi.sessions_today": ("telemetry", "wifi_sessions_today"),
    "ports.power_w": ("port", "power_w"),
    "ports.sessions_today": ("port", "sessions_today"),
}
