"""Contract payloads for tests: the example of contract.md and builders with overrides."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from twins.clock import to_rfc3339

#: The telemetry sample of contract.md section 2, verbatim.
CONTRACT_TELEMETRY = """{"v":1,"bench_id":"mostar-01","ts":"2026-11-26T10:00:00Z","seq":1042,
 "battery":{"soc_pct":81.2,"voltage_v":13.1,"current_a":-1.2,"temp_c":21.5},
 "solar":{"power_w":88.2,"energy_today_wh":410.0},
 "load":{"power_w":12.4},
 "ports":[{"id":"usb-1","kind":"usb","active":true,"power_w":7.5,"sessions_today":14},
          {"id":"qi-1","kind":"wireless","active":false,"power_w":0.0,"sessions_today":3},
          {"id":"scooter-1","kind":"scooter","active":false,"power_w":0.0,"sessions_today":1}],
 "wifi":{"clients":7,"sessions_today":53},
 "votes":{"park-2026":{"yes":12,"no":5}}}"""

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def ts(when: datetime) -> str:
    """RFC 3339 with Z."""
    return to_rfc3339(when)


def telemetry_doc(bench_id: str = "mostar-01", when: datetime = T0, seq: int = 1, **over: Any) -> dict[str, Any]:
    """A valid telemetry document (the contract example with ``over`` merged at the top level)."""
    doc: dict[str, Any] = json.loads(CONTRACT_TELEMETRY)
    doc.update(bench_id=bench_id, ts=ts(when), seq=seq)
    doc.update(over)
    return doc


def battery(soc_pct: float = 81.2, temp_c: float = 21.5) -> dict[str, Any]:
    """A battery section."""
    return {"soc_pct": soc_pct, "voltage_v": 13.1, "current_a": -1.2, "temp_c": temp_c}


def vote_doc(
    bench_id: str = "mostar-01",
    when: datetime = T0,
    poll_id: str = "park-2026",
    option: str = "yes",
    event_id: str | None = None,
) -> dict[str, Any]:
    """A vote event."""
    return {
        "v": 1,
        "bench_id": bench_id,
        "ts": ts(when),
        "id": event_id or str(uuid.uuid4()),
        "type": "vote",
        "data": {"poll_id": poll_id, "option": option},
    }


def event_doc(kind: str, data: dict[str, Any], bench_id: str = "mostar-01", when: datetime = T0) -> dict[str, Any]:
    """Any event."""
    return {"v": 1, "bench_id": bench_id, "ts": ts(when), "id": str(uuid.uuid4()), "type": kind, "data": data}


#: A valid ``data`` for every event type.
EVENT_DATA: dict[str, dict[str, Any]] = {
    "vote": {"poll_id": "park-2026", "option": "yes"},
    "port_session": {
        "port_id": "usb-1",
        "kind": "usb",
        "started": "2026-11-26T09:00:00Z",
        "ended": "2026-11-26T09:30:00Z",
        "energy_wh": 5.5,
    },
    "tamper": {"sensor": "lid", "detail": "opened"},
    "boot": {"firmware": "1.2.3", "reason": "power"},
    "ota_progress": {"version": "1.2.4", "stage": "downloading"},
    "cmd_result": {"name": "ping", "ok": True, "result": {"pong": 1}},
}


def status_doc(
    online: bool, bench_id: str = "mostar-01", when: datetime = T0, reason: str | None = None
) -> dict[str, Any]:
    """A status document (``online: false`` is also the last will)."""
    return {"v": 1, "bench_id": bench_id, "ts": ts(when), "online": online, "reason": reason}


def reported_doc(
    bench_id: str = "mostar-01",
    when: datetime = T0,
    config: dict[str, Any] | None = None,
    applied_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A reported document."""
    doc: dict[str, Any] = {
        "v": 1,
        "bench_id": bench_id,
        "ts": ts(when),
        "firmware": {"version": "1.2.3"},
        "hardware": {"model": "sb-2023", "driver": "victron", "ports": ["usb-1", "qi-1", "scooter-1"]},
    }
    if config is not None:
        doc["config"] = config
    if applied_config is not None:
        doc["applied_config"] = applied_config
    return doc


def desired_doc(bench_id: str = "mostar-01", version: int = 1, when: datetime = T0) -> dict[str, Any]:
    """A desired document with the default config."""
    from twins.config import DEFAULT_CONFIG_DOC

    return {"v": 1, "bench_id": bench_id, "ts": ts(when), "version": version, "config": DEFAULT_CONFIG_DOC}


def cmd_doc(bench_id: str = "mostar-01", when: datetime = T0) -> dict[str, Any]:
    """A command."""
    return {"v": 1, "bench_id": bench_id, "ts": ts(when), "id": str(uuid.uuid4()), "name": "ping", "args": {}}


def payload(doc: Any) -> bytes:
    """Wire form of a document."""
    return json.dumps(doc).encode()


def poll_doc(
    poll_id: str = "park-2026",
    opens: str = "2026-11-01T00:00:00Z",
    closes: str = "2026-12-01T00:00:00Z",
) -> dict[str, Any]:
    """A valid poll with two options, text in every language."""

    def labels(text: str) -> dict[str, str]:
        return {lang: f"{text} ({lang})" for lang in ("bs", "hr", "sr", "en")}

    return {
        "id": poll_id,
        "question": labels("New park?"),
        "options": [{"id": "yes", "labels": labels("Yes")}, {"id": "no", "labels": labels("No")}],
        "opens": opens,
        "closes": closes,
    }


def carrying_polls(bench_id: str = "mostar-01", when: datetime = T0, *polls: dict[str, Any]) -> dict[str, Any]:
    """A reported document whose applied config carries ``polls`` (park-2026 when none are given): a vote
    counts only for a poll the bench has in force."""
    from twins.config import DEFAULT_CONFIG_DOC

    applied = {**DEFAULT_CONFIG_DOC, "polls": list(polls) or [poll_doc()]}
    return reported_doc(bench_id, when, None, applied)
