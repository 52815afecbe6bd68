"""Read models the dashboards send out: a twin summary, the whole twin and alerts (pure, from Twin)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twins.clock import to_rfc3339
from twins.messages import Telemetry
from twins.metrics import (
    BATTERY_SOC,
    BATTERY_TEMP,
    LOAD_POWER,
    METRICS,
    SOLAR_POWER,
    WIFI_CLIENTS,
    Metric,
    MetricValue,
)
from twins.reasons import Reason
from twins.twin import Twin


def _ts(value: datetime | None) -> str | None:
    return to_rfc3339(value) if value else None


#: Metrics in the twin summary, under their keys (from the metric table).
SUMMARY_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.summary)
#: Metrics in the fleet page's columns (from the metric table).
FLEET_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.fleet_column)
#: The summary keys the pages and their scripts single out, by role (``window.METRIC_KEYS`` in the pages).
PAGE_KEYS: dict[str, str] = {
    "soc": BATTERY_SOC.key,
    "temp": BATTERY_TEMP.key,
    "solar": SOLAR_POWER.key,
    "load": LOAD_POWER.key,
    "wifi": WIFI_CLIENTS.key,
}


@dataclass(frozen=True, slots=True)
class TwinSummary:
    """One row of the fleet table and one marker of the map; also the payload of a live ``twin`` update."""

    bench_id: str
    name: str
    municipality: str
    lat: float
    lon: float
    health: str
    reasons: tuple[str, ...]
    """The health reasons in English (the API's); ``reason_texts`` holds each as code and parameters."""
    reason_texts: tuple[Reason, ...]
    online: bool | None
    last_seen: str | None
    config_state: str
    desired_version: int
    ts: str | None
    metrics: Mapping[str, MetricValue | None]
    """Metric key (``battery.soc_pct``) → value in the latest sample (None before the first one)."""

    def as_json(self) -> dict[str, Any]:
        """JSON form: the metrics flat beside the other keys (``battery.soc_pct``, ``load.power_w``...)."""
        return {
            "bench_id": self.bench_id,
            "name": self.name,
            "municipality": self.municipality,
            "lat": self.lat,
            "lon": self.lon,
            "health": self.health,
            "reasons": list(self.reasons),
            "reason_texts": [r.as_doc() for r in self.reason_texts],
            "online": self.online,
            "last_seen": self.last_seen,
            "config_state": self.config_state,
            "desired_version": self.desired_version,
            "ts": self.ts,
            **self.metrics,
        }


def _metric_values(metrics: tuple[Metric, ...], sample: Telemetry | None) -> dict[str, MetricValue | None]:
    """Metric key → value of each metric in ``sample`` (all None without a sample)."""
    return {m.key: m.value_fn(sample) if sample else None for m in metrics}


def summarise(twin: Twin, now: datetime) -> TwinSummary:
    """The summary of ``twin`` at ``now``."""
    health = twin.health(now)
    t = twin.telemetry
    return TwinSummary(
        bench_id=twin.bench_id,
        name=twin.attributes.name,
        municipality=twin.attributes.municipality,
        lat=twin.attributes.lat,
        lon=twin.attributes.lon,
        health=health.status,
        reasons=tuple(r.message for r in health.reasons),
        reason_texts=tuple(r.text for r in health.reasons),
        online=twin.connectivity.online,
        last_seen=_ts(twin.connectivity.last_seen),
        config_state=twin.config_state(),
        desired_version=twin.desired_version,
        ts=_ts(t.ts) if t else None,
        metrics=_metric_values(SUMMARY_METRICS, t),
    )


def twin_document(twin: Twin, now: datetime) -> dict[str, Any]:
    """The whole twin for ``GET /api/benches/{id}``."""
    reported = twin.reported
    return {
        "bench_id": twin.bench_id,
        "attributes": twin.attributes.model_dump(mode="json"),
        "telemetry": twin.telemetry.model_dump(mode="json") if twin.telemetry else None,
        "reported": reported.model_dump(mode="json") if reported else None,
        "desired": {"version": twin.desired_version, "config": twin.desired.model_dump(mode="json")},
        "delta": twin.delta(),
        "config_state": twin.config_state(),
        "connectivity": twin.connectivity.model_dump(mode="json"),
        "health": twin.health(now).as_doc(),
        "versions": twin.versions(),
        "counted_votes": twin.counted_votes,
        "summary": summarise(twin, now).as_json(),
    }


def alerts_of(twin: Twin, now: datetime) -> list[dict[str, Any]]:
    """Current health reasons of a twin, reported as active alerts (no lifecycle yet)."""
    return [
        {
            "bench_id": twin.bench_id,
            "municipality": twin.attributes.municipality,
            "code": r.code,
            "severity": r.severity,
            "message": r.message,
            "text": r.text.as_doc(),
            "state": "active",
            "since": None,
        }
        for r in twin.health(now).reasons
    ]


def _flatten(doc: object, prefix: str = "") -> dict[str, object]:
    if isinstance(doc, dict):
        out: dict[str, object] = {}
        for key, value in doc.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): doc}


@dataclass(frozen=True, slots=True)
class ConfigRow:
    """One config field: desired value, value the bench reports as applied, whether they differ."""

    path: str
    desired: object
    reported: object
    differs: bool


def config_rows(twin: Twin) -> list[ConfigRow]:
    """Desired next to reported, field by field (polls summarised by id), delta marked."""
    desired = twin.desired.model_dump(mode="json")
    applied = twin.reported.applied_config if twin.reported else None
    reported = applied.model_dump(mode="json") if applied else {}
    for doc in (desired, reported):
        if "polls" in doc:
            doc["polls"] = ", ".join(p["id"] for p in doc["polls"]) or "—"
    flat_d, flat_r = _flatten(desired), _flatten(reported)
    return [ConfigRow(p, flat_d[p], flat_r.get(p), flat_d[p] != flat_r.get(p)) for p in flat_d]
