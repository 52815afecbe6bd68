"""The monthly job mails each municipality's PDF to a real SMTP server, once, also after downtime over the due time."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from apscheduler.triggers.cron import CronTrigger
from click.testing import CliRunner
from sqlalchemy import select

from fleet.cli import main
from fleet.mail import SmtpSettings, parse_smtp_url
from fleet.reports import schedule
from fleet.reports.archive import archived
from fleet.reports.delivery import DeliveryContext, deliver_period
from fleet.reports.period import LOCAL_TZ, parse_period
from fleet.reports.recipients import add_recipient, recipients, remove_recipient
from fleet.reports.tables import report_deliveries
from tests.fleet.reports_kit import NOW, Fleet, make_fleet
from tests.services import PostgresDatabase, free_port
from tests.waiting import wait_until
from twins.clock import ManualClock


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 -- aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A simulated fleet with November 2026 history."""
    database = PostgresDatabase()
    database.create()
    built = make_fleet(database.url, tmp_path_factory.mktemp("delivery"))
    yield built
    built.tsdb.close()
    built.engine.dispose()
    database.drop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def context(fleet: Fleet, inbox: tuple[Inbox, int], tmp_path: Path) -> DeliveryContext:
    """Recipients for Mostar and Trebinje; deliveries of earlier tests forgotten."""
    with fleet.engine.begin() as conn:
        conn.execute(report_deliveries.delete())
    add_recipient(fleet.engine, "Mostar", "ured@mostar.example", NOW)
    add_recipient(fleet.engine, "Mostar", "nacelnik@mostar.example", NOW)
    add_recipient(fleet.engine, "Trebinje", "kabinet@trebinje.example", NOW)
    smtp = SmtpSettings("127.0.0.1", inbox[1], "reports@benchfleet.example")
    ctx = DeliveryContext(fleet.engine, fleet.tsdb, smtp, tmp_path / "reports", ManualClock(NOW))
    schedule.set_context(ctx)
    return ctx


def _fields(when: datetime) -> dict[str, int]:
    return {k: getattr(when, k) for k in ("year", "month", "day", "hour", "minute", "second")}


def _subjects(inbox: Inbox) -> list[str]:
    return sorted(str(m["Subject"]) for m in inbox.messages)


def test_recipients_are_checked_and_managed(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match="'not-an-address' is not an e-mail address"):
        add_recipient(fleet.engine, "Maglaj", "not-an-address", NOW)
    assert add_recipient(fleet.engine, "Maglaj", "opcina@maglaj.example", NOW)
    assert not add_recipient(fleet.engine, "Maglaj", "opcina@maglaj.example", NOW)
    assert recipients(fleet.engine)["Maglaj"] == ["opcina@maglaj.example"]
    assert remove_recipient(fleet.engine, "Maglaj", "opcina@maglaj.example")
    assert "Maglaj" not in recipients(fleet.engine)


def test_monthly_mail_carries_the_pdf_in_the_municipalitys_language(
    context: DeliveryContext, inbox: tuple[Inbox, int]
) -> None:
    box, _ = inbox
    assert sorted(deliver_period(context, parse_period("2026-11"))) == ["Mostar", "Trebinje"]
    assert _subjects(box) == [
        "Mjesečni izvještaj o klupama: Mostar, 2026-11",
        "Месечни извештај о клупама: Требиње, 2026-11",
    ]
    mostar = next(m for m in box.messages if "Mostar" in str(m["Subject"]))
    assert sorted(a.strip() for a in str(mostar["To"]).split(",")) == [
        "nacelnik@mostar.example",
        "ured@mostar.example",
    ]
    (attachment,) = list(mostar.iter_attachments())
    pdf = attachment.get_content()
    assert attachment.get_content_type() == "application/pdf"
    assert pdf.startswith(b"%PDF-")
    stored = {a.municipality: a for a in archived(context.engine)}
    assert stored["Mostar"].path.read_bytes() == pdf
    # A second run of the same period sends nothing.
    assert deliver_period(context, parse_period("2026-11")) == []
    assert len(box.messages) == 2


def test_a_run_missed_during_downtime_is_sent_once_when_back(
    context: DeliveryContext, inbox: tuple[Inbox, int]
) -> None:
    box, _ = inbox
    engine = context.engine
    # The stored monthly job fires on the 1st at 06:00 local time.
    probe = schedule.make_scheduler(engine)
    schedule.start_with_monthly_job(probe)
    monthly = probe.get_job(schedule.JOB_ID).next_run_time.astimezone(LOCAL_TZ)
    assert (monthly.day, monthly.hour, monthly.minute) == (1, 6, 0)
    probe.remove_job(schedule.JOB_ID)
    probe.shutdown()
    # First life of the server: the job is stored in SQL, due in two seconds; the server stops before that.
    due = (datetime.now(LOCAL_TZ) + timedelta(seconds=2)).replace(microsecond=0)
    first = schedule.make_scheduler(engine)
    schedule.start_with_monthly_job(first, CronTrigger(**_fields(due), timezone=LOCAL_TZ))
    first.shutdown()
    wait_until(lambda: datetime.now(LOCAL_TZ) > due + timedelta(seconds=1), timeout=10, message="due time passed")
    assert box.messages == []
    # Back after the due time: the missed run happens, once.
    back = schedule.make_scheduler(engine)
    schedule.start_with_monthly_job(back)
    try:
        wait_until(lambda: len(box.messages) >= 2, timeout=120, message="missed monthly reports mailed")
        wait_until(lambda: back.get_job(schedule.JOB_ID) is None, timeout=30, message="one-off due time consumed")
    finally:
        back.shutdown(wait=True)
    assert _subjects(box)[0].endswith("Mostar, 2026-11")
    # Restarted again, and the job run by hand: still exactly one mail per municipality.
    again = schedule.make_scheduler(engine)
    schedule.start_with_monthly_job(again)
    try:
        assert schedule.run_monthly() == []
    finally:
        again.shutdown(wait=True)
    assert len(box.messages) == 2
    with engine.connect() as conn:
        rows = conn.execute(select(report_deliveries.c.municipality, report_deliveries.c.period)).all()
    assert sorted(rows) == [("Mostar", "2026-11"), ("Trebinje", "2026-11")]


def test_migration_creates_the_declared_report_tables(fleet: Fleet) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

    from fleet.reports.tables import REPORT_TABLES

    declared = MetaData()
    for t in REPORT_TABLES:
        t.to_metadata(declared)
    with fleet.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), declared)
    ours = {t.name for t in REPORT_TABLES}
    # Only differences that touch the report tables (the fleet's own tables are another test's concern).
    assert [d for d in diff if any(name in repr(d) for name in ours)] == []


def test_cli_manages_recipients(tmp_path: Path) -> None:
    env = {"BENCHFLEET_DB": f"sqlite:///{tmp_path / 'fleet.db'}"}
    runner = CliRunner(env=env)
    from fleet.db.engine import make_engine
    from fleet.db.store import SqlStore

    SqlStore(make_engine(env["BENCHFLEET_DB"])).create_schema()
    added = runner.invoke(main, ["report-recipients", "add", "Mostar", "ured@mostar.example"])
    assert added.exit_code == 0, added.output
    bad = runner.invoke(main, ["report-recipients", "add", "Mostar", "ured-at-mostar"])
    assert bad.exit_code != 0
    assert "'ured-at-mostar' is not an e-mail address" in bad.output
    listed = runner.invoke(main, ["report-recipients", "list"])
    assert listed.output == "Mostar\tured@mostar.example\n"
    removed = runner.invoke(main, ["report-recipients", "remove", "Mostar", "ured@mostar.example"])
    assert removed.exit_code == 0
    assert runner.invoke(main, ["report-recipients", "list"]).output == ""


def test_smtp_url_is_parsed_and_bad_ones_named() -> None:
    smtp = parse_smtp_url("smtp+starttls://rep%40x:s3cret@mail.example:2525?from=reports@benchfleet.example")
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.starttls) == (
        "mail.example",
        2525,
        "rep@x",
        "s3cret",
        True,
    )
    assert parse_smtp_url("smtp://localhost?from=a@b.example").port == 25
    with pytest.raises(ValueError, match=r"\?from=ADDRESS") as err:
        parse_smtp_url("smtp://u:s3cret@mail.example")
    assert "s3cret" not in str(err.value)
    with pytest.raises(ValueError, match="scheme and host needed"):
        parse_smtp_url("http://mail.example?from=a@b.example")
