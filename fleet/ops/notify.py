"""Alarm notifications: recipients routed per municipality and severity, an outbox in SQL, sending by
e-mail (SMTP) and webhook (JSON POST), rate-limited per recipient.

A transition of an alarm (raised, escalated, cleared) enqueues one outbox row per recipient in the
transaction that made it; ``Notifier.run`` sends pending rows. So each recipient hears of each transition
once, however often the condition is re-evaluated, and nothing is lost while a mail server is down.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import requests
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from fleet.mail import SmtpSettings, send_message
from fleet.ops.alarm_model import Alarm, row_to_alarm
from fleet.ops.alarm_tables import alarm_history, alarm_notifications, alarm_recipients, alarms, new_row_id
from twins.alarm_rules import SEVERITIES

log = logging.getLogger(__name__)

Channel = Literal["email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "webhook")
ALL_MUNICIPALITIES = "*"
_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}  # critical = 0: "at least minor" means rank <= minor's

#: Which transitions notify whom: the routed recipients (False) or the escalation recipients (True).
AUDIENCE: dict[str, bool] = {"raised": False, "cleared": False, "escalated": True}

_r = alarm_recipients.c
_n = alarm_notifications.c


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who hears of which alarms, and how."""

    id: int
    municipality: str
    min_severity: str
    channel: str
    address: str
    escalation: bool

    def as_json(self) -> dict[str, Any]:
        """JSON form for the API and CLI."""
        return {
            "id": self.id,
            "municipality": self.municipality,
            "min_severity": self.min_severity,
            "channel": self.channel,
            "address": self.address,
            "escalation": self.escalation,
        }


def wants(recipient: Recipient, municipality: str, severity: str) -> bool:
    """Tell whether ``recipient`` is routed alarms of ``municipality`` at ``severity``."""
    return recipient.municipality in (municipality, ALL_MUNICIPALITIES) and _RANK.get(severity, 99) <= _RANK.get(
        recipient.min_severity, -1
    )


def enqueue_notifications(conn: Connection, history_id: int, alarm: Alarm, action: str, now: datetime) -> int:
    """Put one outbox row per routed recipient of this transition (inside the transition's transaction)."""
    escalation = AUDIENCE.get(action)
    if escalation is None:
        return 0
    rows = [
        {
            "history_id": history_id,
            "recipient_id": r.id,
            "alarm_id": alarm.id,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for r in _recipients(conn, escalation)
        if wants(r, alarm.municipality, alarm.severity)
    ]
    if rows:
        conn.execute(insert(alarm_notifications), rows)
    return len(rows)


def _recipients(conn: Connection, escalation: bool | None = None) -> list[Recipient]:
    q = select(alarm_recipients).order_by(_r.id)
    if escalation is not None:
        q = q.where(_r.escalation.is_(escalation))
    return [
        Recipient(r.id, r.municipality, r.min_severity, r.channel, r.address, r.escalation) for r in conn.execute(q)
    ]


class RecipientStore:
    """The routing table (managed through the API and ``benchfleet alarms recipient ...``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, municipality: str, min_severity: str, channel: str, address: str, *, escalation: bool = False
    ) -> Recipient:
        """Add a recipient; ValueError naming a bad severity, channel or address."""
        if min_severity not in _RANK:
            raise ValueError(f"min_severity {min_severity!r}: use one of {', '.join(SEVERITIES)}")
        if channel not in CHANNELS:
            raise ValueError(f"channel {channel!r}: use one of {', '.join(CHANNELS)}")
        if channel == "email" and "@" not in address:
            raise ValueError(f"address {address!r} is not an e-mail address")
        if channel == "webhook" and not address.startswith(("http://", "https://")):
            raise ValueError(f"address {address!r} is not an http(s) URL")
        if not municipality:
            raise ValueError(f"municipality: give a name or {ALL_MUNICIPALITIES!r} for every one")
        values = {
            "municipality": municipality,
            "min_severity": min_severity,
            "channel": channel,
            "address": address,
            "escalation": escalation,
        }
        with self.engine.begin() as conn:
            new_id = new_row_id(conn.execute(insert(alarm_recipients).values(**values)))
        return Recipient(new_id, municipality, min_severity, channel, address, escalation)

    def remove(self, recipient_id: int) -> bool:
        """Drop a recipient; False if there was none."""
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(alarm_recipients).where(_r.id == recipient_id)).rowcount)

    def all(self) -> list[Recipient]:
        """Every recipient."""
        with self.engine.connect() as conn:
            return _recipients(conn)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification to send: the recipient, the transition and the alarm as it is now."""

    id: int
    recipient: Recipient
    action: str
    actor: str
    detail: str
    at: datetime
    alarm: dict[str, Any]

    def subject(self) -> str:
        """E-mail subject line."""
        a = self.alarm
        return f"[BenchFleet] {str(a['severity']).upper()} {self.action}: {a['rule']} on bench {a['bench_id']}"

    def body(self) -> dict[str, Any]:
        """The webhook's JSON document (and the e-mail's content)."""
        return {
            "event": f"alarm.{self.action}",
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "detail": self.detail,
            "alarm": self.alarm,
        }


class SendError(Exception):
    """A notification could not be delivered (retried later)."""


def send_email(smtp: SmtpSettings | None, item: Outgoing) -> None:
    """Deliver one notification by SMTP."""
    if smtp is None:
        raise SendError("no SMTP server configured (BENCHFLEET_SMTP)")
    msg = EmailMessage()
    msg["To"] = item.recipient.address
    msg["Subject"] = item.subject()
    a = item.alarm
    msg.set_content(
        f"{a['message']}\n\nbench: {a['bench_id']} ({a['municipality']})\nrule: {a['rule']}\n"
        f"severity: {a['severity']}\nstate: {a['state']}\n{item.action} at {item.body()['at']} by {item.actor}\n"
    )
    try:
        send_message(smtp, msg)
    except (OSError, smtplib.SMTPException) as err:
        raise SendError(f"SMTP {smtp.host}:{smtp.port}: {err}") from err


def send_webhook(item: Outgoing, timeout_s: float = 10.0) -> None:
    """Deliver one notification as a JSON POST."""
    try:
        resp = requests.post(item.recipient.address, json=item.body(), timeout=timeout_s)
    except requests.RequestException as err:
        raise SendError(f"webhook {item.recipient.address}: {err}") from err
    if resp.status_code >= 300:
        raise SendError(f"webhook {item.recipient.address}: HTTP {resp.status_code}")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` notifications per recipient per ``window``; the rest wait (they are not dropped)."""

    count: int = 10
    window: timedelta = timedelta(minutes=10)


MAX_ATTEMPTS = 5


class Notifier:
    """Sends pending notifications from the outbox; safe to run in several processes (rows are claimed)."""

    def __init__(
        self,
        engine: Engine,
        smtp: SmtpSettings | None,
        limit: RateLimit = RateLimit(),
        webhook: Callable[[Outgoing], None] = send_webhook,
    ) -> None:
        self.engine = engine
        self._senders: dict[str, Callable[[Outgoing], None]] = {
            "email": lambda item: send_email(smtp, item),
            "webhook": webhook,
        }
        self.limit = limit

    def run(self, now: datetime) -> int:
        """Send what is pending (within each recipient's rate limit); returns how many were sent."""
        sent = 0
        budget: dict[int, int] = {}
        for item in self._pending():
            rid = item.recipient.id
            if rid not in budget:
                budget[rid] = self.limit.count - self._sent_since(rid, now - self.limit.window)
            if budget[rid] <= 0:
                continue  # rate-limited: stays pending for a later run
            if not self._claim(item.id):
                continue  # another process took it
            try:
                self._senders[item.recipient.channel](item)
            except SendError as err:
                log.warning("notification %d to %s failed: %s", item.id, item.recipient.address, err)
                self._finish(item.id, now, error=str(err))
                continue
            self._finish(item.id, now)
            budget[rid] -= 1
            sent += 1
        return sent

    def _pending(self) -> list[Outgoing]:
        h = alarm_history.c
        q = (
            select(alarm_notifications, alarm_recipients, alarm_history.c.action, h.actor, h.detail, h.at)
            .join(alarm_recipients, _r.id == _n.recipient_id)
            .join(alarm_history, h.id == _n.history_id)
            .where(_n.status == "pending")
            .order_by(_n.id)
            .limit(500)
        )
        out: list[Outgoing] = []
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            ids = {r.alarm_id for r in rows}
            docs = {r.id: row_to_alarm(r).as_json() for r in conn.execute(select(alarms).where(alarms.c.id.in_(ids)))}
        for r in rows:
            recipient = Recipient(r.recipient_id, r.municipality, r.min_severity, r.channel, r.address, r.escalation)
            out.append(Outgoing(r[0], recipient, r.action, r.actor, r.detail, r.at, docs[r.alarm_id]))
        return out

    def _sent_since(self, recipient_id: int, since: datetime) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).where(_n.recipient_id == recipient_id, _n.status == "sent", _n.sent_at >= since)
            return int(conn.execute(q).scalar() or 0)

    def _claim(self, notification_id: int) -> bool:
        with self.engine.begin() as conn:
            stmt = update(alarm_notifications).where(_n.id == notification_id, _n.status == "pending")
            return bool(conn.execute(stmt.values(status="sending", attempts=_n.attempts + 1)).rowcount)

    def _finish(self, notification_id: int, now: datetime, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            if error is None:
                values: dict[str, Any] = {"status": "sent", "sent_at": now, "error": None}
                conn.execute(update(alarm_notifications).where(_n.id == notification_id).values(**values))
                return
            # Retried on later runs until MAX_ATTEMPTS; then kept as failed (visible, never silently dropped).
            stmt = update(alarm_notifications).where(_n.id == notification_id)
            conn.execute(stmt.where(_n.attempts >= MAX_ATTEMPTS).values(status="failed", error=error))
            conn.execute(
                stmt.where(and_(_n.attempts < MAX_ATTEMPTS, _n.status == "sending")).values(
                    status="pending", error=error
                )
            )

    def outbox(self) -> list[dict[str, Any]]:
        """Every notification row (status, attempts, error): for the API and tests."""
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(alarm_notifications).order_by(_n.id))]


def dumps(item: Outgoing) -> str:
    """The webhook body as text (for logs)."""
    return json.dumps(item.body(), ensure_ascii=False)
