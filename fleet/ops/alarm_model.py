"""An alarm and a transition of it, as read from SQL (shared by the store, the sender and the API)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twins.reasons import TEXTS, Reason


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm as the API shows it."""

    id: int
    bench_id: str
    municipality: str
    rule: str
    severity: str
    state: str
    message: str
    raised_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    ack_comment: str | None
    assignee: str | None
    escalated_at: datetime | None
    cleared_at: datetime | None
    #: The message as a code with parameters (None for alarms stored before it was kept).
    text: Reason | None = None

    def as_json(self) -> dict[str, Any]:
        """Contract section 5's alert document (plus municipality, comment and escalation)."""
        return {
            "id": self.id,
            "bench_id": self.bench_id,
            "municipality": self.municipality,
            "rule": self.rule,
            "severity": self.severity,
            "state": self.state,
            "message": self.message,
            "raised_at": iso(self.raised_at),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": iso(self.acknowledged_at),
            "comment": self.ack_comment,
            "assignee": self.assignee,
            "escalated_at": iso(self.escalated_at),
            "cleared_at": iso(self.cleared_at),
            "text": self.text.as_doc() if self.text is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of an alarm's history."""

    id: int
    alarm_id: int
    at: datetime
    action: str
    actor: str
    detail: str


def iso(value: datetime | None) -> str | None:
    """RFC 3339 with Z, or None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def utc(value: datetime | None) -> datetime | None:
    """The value with UTC attached (SQLite hands back naive datetimes for timezone-aware columns)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def row_to_alarm(row: Any) -> Alarm:
    """An Alarm from a row of the alarms table."""
    return Alarm(
        row.id,
        row.bench_id,
        row.municipality,
        row.rule,
        row.severity,
        row.state,
        row.message,
        utc(row.raised_at),
        row.acknowledged_by,
        utc(row.acknowledged_at),
        row.ack_comment,
        row.assignee,
        utc(row.escalated_at),
        utc(row.cleared_at),
        reason_from_json(row.text),
    )


def reason_json(reason: Reason) -> str:
    """The ``alarms.text`` column's JSON of a message."""
    return json.dumps(reason.as_doc(), sort_keys=True)


def reason_from_json(text: str | None) -> Reason | None:
    """A stored message back, or None when absent or of a code this version does not know."""
    if not text:
        return None
    doc = json.loads(text)
    return Reason(doc["code"], doc["params"]) if doc.get("code") in TEXTS else None
