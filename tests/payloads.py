"""Builders of contract payloads for tests (valid by default; override any part)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

BASE_TS = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def ts(offset_s: float = 0.0, base: datetime = BASE_TS) -> str:
    """An RFC 3339 UTC timestamp ``offset_s`` after ``base``."""
    return (base + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def telemetry(bench_id: str = "mostar-01", seq: int = 1, offset_s: float = 0.0, **over: Any) -> dict[str, Any]:
    """The contract's example telemetry sample."""
    doc: dict[str, Any] = {
        "v": 1,
        "bench_id": bench_id,
        "ts": ts(offset_s),
        "seq": seq,
        "battery": {"soc_pct": 81.2, "voltage_v": 13.1, "current_a": -1.2, "temp_c": 21.5},
        "solar": {"power_w": 88.2, "energy_today_wh": 410.0},
        "load": {"power_w": 12.4},
        "ports": [
            {"id": "usb-1", "kind": "usb", "active": True, "power_w": 7.5, "sessions_today": 14},
            {"id": "qi-1", "kind": "wireless", "active": False, "power_w": 0.0, "sessions_today": 3},
            {"id": "scooter-1", "kind": "scooter", "active": False, "power_w": 0.0, "sessions_today": 1},
        ],
        "wifi": {"clients": 7, "sessions_today": 53},
        "votes": {},
    }
    doc.update(over)
    return doc


def vote(
    bench_id: str = "mostar-01",
    poll_id: str = "park-2026",
    option: str = "yes",
    event_id: str | None = None,
    offset_s: float = 0.0,
) -> dict[str, Any]:
    """A vote event."""
    return {
        "v": 1,
        "bench_id": bench_id,
        "ts": ts(offset_s),
        "id": event_id or str(uuid.uuid4()),
        "type": "vote",
        "data": {"poll_id": poll_id, "option": option},
    }


def status(bench_id: str = "mostar-01", online: bool = True, offset_s: float = 0.0) -> dict[str, Any]:
    """A status message."""
    return {"v": 1, "bench_id": bench_id, "ts": ts(offset_s), "online": online}


def dumps(doc: dict[str, Any]) -> bytes:
    """Wire form."""
    return json.dumps(doc).encode()
