"""The monthly report job: APScheduler with its jobs in the fleet's SQL database, so a run missed while
the server was down happens once when it is back (misfire grace + coalesce), and ``report_deliveries``
makes sure no municipality gets a period twice."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from fleet.reports.delivery import DeliveryContext, deliver_period
from fleet.reports.period import LOCAL_TZ, previous_month

JOB_ID = "reports.monthly"
JOBS_TABLE = "apscheduler_jobs"
#: On the 1st at 06:00 local time: the month before is complete, and the mail is there when offices open.
MONTHLY = {"day": 1, "hour": 6, "minute": 0}
#: A run missed by up to four weeks of downtime still happens (once) when the server is back.
MISFIRE_GRACE = timedelta(days=27)

_context: DeliveryContext | None = None


def set_context(ctx: DeliveryContext) -> None:
    """Give the job what it needs (the job itself is stored by reference, without connections)."""
    global _context
    _context = ctx


def run_monthly() -> list[str]:
    """The job: mail last month's reports that have not gone out yet."""
    if _context is None:
        raise RuntimeError("fleet.reports.schedule.set_context was not called in this process")
    today = _context.clock.now().astimezone(LOCAL_TZ).date()
    return deliver_period(_context, previous_month(today))


def make_scheduler(engine: Engine) -> BackgroundScheduler:
    """A scheduler whose jobs live in the fleet database's ``apscheduler_jobs`` table."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)}, timezone=LOCAL_TZ
    )


def start_with_monthly_job(scheduler: BackgroundScheduler, trigger: BaseTrigger | None = None) -> None:
    """Start the scheduler with the monthly job (``trigger``: the 1st at 06:00), keeping a stored job's
    due time (re-adding it with replace_existing would move a missed run into the future and lose it)."""
    scheduler.start(paused=True)
    if scheduler.get_job(JOB_ID) is None:
        scheduler.add_job(
            f"{__name__}:run_monthly",
            trigger or CronTrigger(**MONTHLY, timezone=LOCAL_TZ),
            id=JOB_ID,
            coalesce=True,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            max_instances=1,
        )
    scheduler.resume()


def start_report_delivery(ctx: DeliveryContext) -> BackgroundScheduler:
    """The one call a server process makes: remember ``ctx``, start the SQL-backed scheduler with the
    monthly job, and return it (shut it down on exit)."""
    set_context(ctx)
    scheduler = make_scheduler(ctx.engine)
    start_with_monthly_job(scheduler)
    return scheduler


class ReportDelivery:
    """The monthly delivery as a service of the scheduler's leader: started when this process leads."""

    def __init__(self, ctx: DeliveryContext) -> None:
        self._ctx = ctx
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        """Start the SQL-backed scheduler with the monthly job (a run missed while down happens once now)."""
        if self._scheduler is None:
            self._scheduler = start_report_delivery(self._ctx)

    def stop(self) -> None:
        """Stop it (harmless when not started)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
