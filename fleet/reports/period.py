"""Report periods: a calendar month (``2026-11``) or a range of dates (``2026-11-03..2026-11-20``), local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: The benches' and municipalities' time zone: days, hours and months of a report are local.
LOCAL_TZ = ZoneInfo("Europe/Sarajevo")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period that is neither YYYY-MM nor START..END; the message shows the accepted forms."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first``..``last`` (both included), with their UTC bounds [start, end)."""

    first: date
    last: date
    label: str

    @property
    def start(self) -> datetime:
        """Local midnight starting ``first``, in UTC."""
        return datetime.combine(self.first, datetime.min.time(), LOCAL_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Local midnight after ``last``, in UTC (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), LOCAL_TZ).astimezone(UTC)

    def days(self) -> list[date]:
        """Every local day of the period."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def month_period(year: int, month: int) -> Period:
    """The calendar month ``year-month``."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), f"{year:04d}-{month:02d}")


def previous_month(today: date) -> Period:
    """The calendar month before the one holding ``today`` (what the report of the 1st covers)."""
    last = today.replace(day=1) - timedelta(days=1)
    return month_period(last.year, last.month)


def parse_period(text: str) -> Period:
    """``YYYY-MM`` or ``YYYY-MM-DD..YYYY-MM-DD``; PeriodError naming what is wrong."""
    text = text.strip()
    accepted = "accepted: YYYY-MM (a month) or YYYY-MM-DD..YYYY-MM-DD (first and last day, included)"
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: month {month} is not 1..12; {accepted}")
        return month_period(year, month)
    if m := _RANGE.match(text):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError as err:
            raise PeriodError(f"period {text!r}: {err}; {accepted}") from None
        if last < first:
            raise PeriodError(f"period {text!r}: the last day is before the first; {accepted}")
        return Period(first, last, text)
    raise PeriodError(f"period {text!r} is not understood; {accepted}")
