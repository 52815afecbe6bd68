"""Outgoing e-mail: the one SMTP setting (``BENCHFLEET_SMTP``) and the one way a message is sent.

Alarm notifications (fleet/ops/notify.py) and monthly reports (fleet/reports/delivery.py) both go through here.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

#: Scheme → (default port, STARTTLS after connecting).
_SCHEMES = {"smtp": (25, False), "smtp+starttls": (587, True)}
_ACCEPTED = "accepted: smtp://[user:pass@]host[:port]?from=ADDRESS or smtp+starttls://..."


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and as whom mail is sent."""

    host: str
    port: int = 25
    sender: str = "benchfleet@localhost"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_s: float = 30.0


def parse_smtp_url(url: str, setting: str = "BENCHFLEET_SMTP") -> SmtpSettings:
    """``smtp://[user:pass@]host[:port]?from=reports@example.org`` (``smtp+starttls://`` upgrades to TLS);
    ValueError naming the setting and what is wrong (the password masked)."""
    parts = urlsplit(url)
    shown = url.replace(f":{parts.password}@", ":***@") if parts.password else url
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(f"{setting}={shown!r}: scheme and host needed; {_ACCEPTED}")
    sender = parse_qs(parts.query).get("from", [""])[0]
    if "@" not in sender:
        raise ValueError(f"{setting}={shown!r}: ?from=ADDRESS (the sender) is missing; {_ACCEPTED}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{setting}={shown!r}: the port is not a number; {_ACCEPTED}") from None
    default_port, starttls = _SCHEMES[parts.scheme]
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        sender=sender,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=starttls,
    )


def send_message(smtp: SmtpSettings, message: EmailMessage) -> None:
    """Send one message (its ``From`` set from the settings when missing); smtplib's errors pass through."""
    if "From" not in message:
        message["From"] = smtp.sender
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)
