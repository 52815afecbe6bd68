"""Tables of the alarms: alarms, their history, thresholds, notification recipients and outbox, signals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    CursorResult,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from fleet.db.metadata import metadata


def _tz() -> DateTime:
    return DateTime(timezone=True)


# One row per alarm occurrence. ``open_key`` ("bench/rule") is set while the alarm is not cleared and
# unique: two processes evaluating at once cannot open a second alarm for the same bench and rule.
alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bench_id", String(64), nullable=False),
    Column("municipality", String(100), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=False),
    # The message as a code with parameters (JSON of ``twins.reasons.Reason``) for translation; NULL before 0007.
    Column("text", Text, nullable=True),
    Column("open_key", String(160), nullable=True, unique=True),
    Column("condition_since", _tz(), nullable=False),
    Column("raised_at", _tz(), nullable=True),
    Column("clearing_since", _tz(), nullable=True),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", _tz(), nullable=True),
    Column("ack_comment", Text, nullable=True),
    Column("assignee", String(64), nullable=True),
    Column("escalated_at", _tz(), nullable=True),
    Column("cleared_at", _tz(), nullable=True),
    Column("updated_at", _tz(), nullable=False),
    Index("ix_alarms_bench_state", "bench_id", "state"),
)

# Every transition of an alarm, appended in the transaction that made it; ``announced`` is claimed by
# exactly one dashboard process, which emits the live ``alert`` event for it.
alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_id", Integer, nullable=False, index=True),
    Column("at", _tz(), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("announced", Boolean, nullable=False, default=False),
)

# Threshold overrides: scope "municipality" or "bench", target its name or id; a bench's beats its municipality's.
alarm_thresholds = Table(
    "alarm_thresholds",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Float, nullable=False),
)

# Who hears of which alarms: per municipality ("*" = every one) from a minimum severity; escalation
# recipients hear of alarms nobody acknowledged in time.
alarm_recipients = Table(
    "alarm_recipients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(100), nullable=False),
    Column("min_severity", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", Text, nullable=False),
    Column("escalation", Boolean, nullable=False, default=False),
)

# The notification outbox: one row per (transition, recipient), so a transition is sent once however
# often the condition is evaluated; the sender claims rows with a conditional UPDATE.
alarm_notifications = Table(
    "alarm_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("history_id", Integer, nullable=False),
    Column("recipient_id", Integer, nullable=False),
    Column("alarm_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", _tz(), nullable=False),
    Column("sent_at", _tz(), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("history_id", "recipient_id", name="uq_alarm_notifications_transition"),
    Index("ix_alarm_notifications_status", "status"),
)

# Event-like alarm inputs (tamper) recorded at ingestion, keyed by the event id (redelivery is harmless).
alarm_signals = Table(
    "alarm_signals",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("bench_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", _tz(), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_alarm_signals_bench_kind", "bench_id", "kind"),
)

ALARM_TABLES = (alarms, alarm_history, alarm_thresholds, alarm_recipients, alarm_notifications, alarm_signals)


def new_row_id(result: CursorResult[Any]) -> int:
    """The id the database gave the row an INSERT just added."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
