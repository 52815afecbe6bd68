"""Mailing the monthly reports: each municipality's PDF to its recipients, once per period (``report_deliveries``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, delete, update

from fleet.mail import SmtpSettings, send_message
from fleet.reports import texts
from fleet.reports.archive import FLEET_KEY, store_report
from fleet.reports.build import ReportSources
from fleet.reports.output import make_report, render
from fleet.reports.period import Period
from fleet.reports.recipients import recipients
from fleet.reports.tables import report_deliveries
from fleet.state.twin_store import TwinStore
from fleet.state.votes import dialect_insert
from fleet.tsdb.base import TimeSeriesStore
from twins.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """Everything the monthly job needs, set once by the process that runs the scheduler."""

    engine: Engine
    tsdb: TimeSeriesStore
    smtp: SmtpSettings
    archive_dir: Path
    clock: Clock
    languages: Mapping[str, str] = field(default_factory=dict)
    browser: str | None = None


def send_mail(smtp: SmtpSettings, to: list[str], subject: str, body: str, filename: str, pdf: bytes) -> None:
    """One message with the PDF attached, to every address in ``to``."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    send_message(smtp, message)


def _claim(engine: Engine, municipality: str, period: Period, addresses: int, now: datetime) -> bool:
    """Take the (municipality, period) row before sending: False when it is already taken (sent, or
    being sent by another process)."""
    row = {"municipality": municipality, "period": period.label, "sent_at": now, "recipients": addresses}
    with engine.begin() as conn:
        stmt = dialect_insert(conn, report_deliveries).values(**row).on_conflict_do_nothing()
        return conn.execute(stmt.returning(report_deliveries.c.period)).first() is not None


def _release(engine: Engine, municipality: str, period: Period) -> None:
    with engine.begin() as conn:
        conn.execute(
            delete(report_deliveries).where(
                report_deliveries.c.municipality == municipality, report_deliveries.c.period == period.label
            )
        )


def deliver_period(ctx: DeliveryContext, period: Period) -> list[str]:
    """Mail ``period``'s report to every municipality with recipients that has not had it; returns those
    mailed now. A failed one is released again, so that the next run retries it."""
    sent: list[str] = []
    twins = TwinStore(ctx.engine).list_twins()
    sources = ReportSources(ctx.engine, ctx.tsdb, twins)
    for key, addresses in recipients(ctx.engine).items():
        now = ctx.clock.now()
        if not _claim(ctx.engine, key, period, len(addresses), now):
            continue
        municipality = None if key == FLEET_KEY else key
        try:
            report = make_report(sources, municipality, period, now, ctx.languages)
            pdf = render(report, "pdf", ctx.browser)
            stored = store_report(
                ctx.engine, ctx.archive_dir, municipality, period.label, "pdf", report.language, pdf, now
            )
            lang = report.language
            place = texts.name(lang, municipality) if municipality else texts.text(lang, "fleet")
            send_mail(
                ctx.smtp,
                addresses,
                texts.text(lang, "mail_subject", place=place, period=period.label),
                texts.text(lang, "mail_body", place=place, period=period.label),
                stored.path.name,
                pdf,
            )
        except Exception:
            # Any failure (no browser, SMTP down, unknown municipality): nothing was sent, try next run.
            log.exception("monthly report %s for %s not sent; it will be retried", period.label, key)
            _release(ctx.engine, key, period)
            continue
        with ctx.engine.begin() as conn:
            conn.execute(
                update(report_deliveries)
                .where(report_deliveries.c.municipality == key, report_deliveries.c.period == period.label)
                .values(archive_id=stored.id)
            )
        sent.append(key)
        log.info("monthly report %s for %s mailed to %d recipient(s)", period.label, key, len(addresses))
    return sent
