"""Gathering a report's numbers from the vote table, the twins' desired configs and the TSDB.

Everything a renderer shows is in the frozen dataclasses built here; renderers compute nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, MetaData, Table, func, inspect, or_, select

from fleet.db.schema import vote_events
from fleet.reports.period import LOCAL_TZ, Period
from fleet.tsdb.base import MAX_BUCKETS, TimeSeriesStore
from twins.config import Poll
from twins.series import SEQ_FIELD, TELEMETRY
from twins.solar import clear_sky_energy_wh
from twins.twin import Twin

PORT_KINDS: tuple[str, ...] = ("usb", "wireless", "scooter")


@dataclass(frozen=True, slots=True)
class OptionVotes:
    """One answer of a poll and its votes in the period."""

    option_id: str
    labels: Mapping[str, str]
    votes: int


@dataclass(frozen=True, slots=True)
class GroupVotes:
    """Votes per option (in the poll's option order) of one bench or municipality."""

    key: str
    name: str
    votes: tuple[int, ...]

    @property
    def total(self) -> int:
        """All votes of the group."""
        return sum(self.votes)


@dataclass(frozen=True, slots=True)
class PollReport:
    """A poll open in the period, with the votes cast in the period within the report's scope."""

    poll_id: str
    question: Mapping[str, str]
    opens: datetime
    closes: datetime
    options: tuple[OptionVotes, ...]
    by_bench: tuple[GroupVotes, ...]
    by_municipality: tuple[GroupVotes, ...]
    by_day: tuple[tuple[date, int], ...]
    by_hour: tuple[int, ...]

    @property
    def total(self) -> int:
        """All votes of the poll in the period."""
        return sum(o.votes for o in self.options)


@dataclass(frozen=True, slots=True)
class EarlierPoll:
    """A poll whose voting ended before the period, for comparison."""

    poll_id: str
    question: Mapping[str, str] | None
    first_vote: datetime
    last_vote: datetime
    votes: int

    @property
    def votes_per_day(self) -> float:
        """Votes per day between the first and last vote (at least one day)."""
        return self.votes / max(1.0, (self.last_vote - self.first_vote).total_seconds() / 86400)


@dataclass(frozen=True, slots=True)
class PortService:
    """Charging of one port kind at one bench over the period."""

    kind: str
    sessions: int
    energy_wh: float


@dataclass(frozen=True, slots=True)
class BenchService:
    """What one bench gave its town over the period, and how reliably."""

    bench_id: str
    name: str
    municipality: str
    ports: tuple[PortService, ...]
    wifi_sessions: int
    wifi_clients_mean: float | None
    wifi_clients_peak: int
    solar_wh: float
    clear_sky_wh: float
    samples: int
    expected_samples: int

    @property
    def availability_pct(self) -> float:
        """Samples received per sample expected at the telemetry interval, %."""
        return (
            100.0 * min(self.samples, self.expected_samples) / self.expected_samples if self.expected_samples else 0.0
        )

    @property
    def solar_ratio(self) -> float | None:
        """Harvest as a fraction of the clear-sky expectation."""
        return self.solar_wh / self.clear_sky_wh if self.clear_sky_wh > 0 else None


@dataclass(frozen=True, slots=True)
class AlarmLine:
    """An alarm of a bench that was raised (and not yet cleared) at some time in the period."""

    bench_id: str
    rule: str
    severity: str
    message: str
    raised_at: datetime
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class Report:
    """A municipality's report (``municipality`` None: the fleet's, all municipalities)."""

    municipality: str | None
    language: str
    period: Period
    generated_at: datetime
    municipalities: tuple[str, ...]
    polls: tuple[PollReport, ...]
    earlier: tuple[EarlierPoll, ...]
    service: tuple[BenchService, ...]
    #: None: this server keeps no alarm log (said so in the report, not shown as "no alarms").
    alarms: tuple[AlarmLine, ...] | None


@dataclass(frozen=True, slots=True)
class ReportSources:
    """Where a report's numbers come from."""

    engine: Engine
    tsdb: TimeSeriesStore
    twins: Sequence[Twin]


class UnknownMunicipality(ValueError):
    """A report asked for a municipality without benches."""


def build_report(
    sources: ReportSources, municipality: str | None, period: Period, language: str, now: datetime
) -> Report:
    """The report of ``municipality`` (None: the whole fleet) over ``period``."""
    twins = [t for t in sources.twins if municipality is None or t.attributes.municipality == municipality]
    if not twins:
        known = sorted({t.attributes.municipality for t in sources.twins})
        raise UnknownMunicipality(f"municipality {municipality!r} has no benches; known: {', '.join(known)}")
    twins.sort(key=lambda t: t.bench_id)
    scope = frozenset(t.attributes.municipality for t in twins)
    polls = _polls_open(twins, period)
    return Report(
        municipality=municipality,
        language=language,
        period=period,
        generated_at=now,
        municipalities=tuple(sorted(scope)),
        polls=tuple(_poll_report(sources.engine, p, twins, scope, period) for p in polls),
        earlier=_earlier_polls(sources.engine, twins, scope, period),
        service=tuple(_bench_service(sources.tsdb, t, period, now) for t in twins),
        alarms=_alarms(sources.engine, scope, period),
    )


# --- participation ------------------------------------------------------------------------------


def _polls_open(twins: Sequence[Twin], period: Period) -> list[Poll]:
    """Polls in the benches' desired configs that were open at some time in the period (like FleetService.polls)."""
    found: dict[str, Poll] = {}
    for twin in twins:
        for poll in twin.desired.polls:
            if poll.opens < period.end and poll.closes > period.start:
                found.setdefault(poll.id, poll)
    return sorted(found.values(), key=lambda p: (p.opens, p.id))


def _poll_report(
    engine: Engine, poll: Poll, twins: Sequence[Twin], scope: frozenset[str], period: Period
) -> PollReport:
    q = select(vote_events.c.bench_id, vote_events.c.municipality, vote_events.c.option, vote_events.c.ts).where(
        vote_events.c.poll_id == poll.id,
        vote_events.c.ts >= period.start,
        vote_events.c.ts < period.end,
        vote_events.c.municipality.in_(sorted(scope)),
    )
    with engine.connect() as conn:
        rows = [(b, m, o, _aware(ts)) for b, m, o, ts in conn.execute(q)]
    option_ids = [o.id for o in poll.options]
    per_option = Counter(o for _, _, o, _ in rows)
    per_bench = Counter((b, o) for b, _, o, _ in rows)
    per_muni = Counter((m, o) for _, m, o, _ in rows)
    names = {t.bench_id: t.attributes.name for t in twins}
    benches = sorted(
        {b for b, _, _, _ in rows} | {t.bench_id for t in twins if any(p.id == poll.id for p in t.desired.polls)}
    )
    munis = sorted({m for _, m, _, _ in rows} | {t.attributes.municipality for t in twins if t.bench_id in benches})
    local = [ts.astimezone(LOCAL_TZ) for _, _, _, ts in rows]
    days = Counter(t.date() for t in local)
    hours = Counter(t.hour for t in local)
    return PollReport(
        poll_id=poll.id,
        question=dict(poll.question),
        opens=poll.opens,
        closes=poll.closes,
        options=tuple(OptionVotes(o.id, dict(o.labels), per_option[o.id]) for o in poll.options),
        by_bench=tuple(GroupVotes(b, names.get(b, b), tuple(per_bench[b, o] for o in option_ids)) for b in benches),
        by_municipality=tuple(GroupVotes(m, m, tuple(per_muni[m, o] for o in option_ids)) for m in munis),
        by_day=tuple((d, days[d]) for d in period.days()),
        by_hour=tuple(hours[h] for h in range(24)),
    )


def _earlier_polls(
    engine: Engine, twins: Sequence[Twin], scope: frozenset[str], period: Period
) -> tuple[EarlierPoll, ...]:
    """Polls with votes in the scope, all of them cast before the period (questions from the configs when known)."""
    q = (
        select(vote_events.c.poll_id, func.min(vote_events.c.ts), func.max(vote_events.c.ts), func.count())
        .where(vote_events.c.municipality.in_(sorted(scope)))
        .group_by(vote_events.c.poll_id)
    )
    questions = {p.id: dict(p.question) for t in twins for p in t.desired.polls}
    with engine.connect() as conn:
        rows = [(p, _aware(a), _aware(b), int(n)) for p, a, b, n in conn.execute(q)]
    earlier = [EarlierPoll(p, questions.get(p), a, b, n) for p, a, b, n in rows if b < period.start]
    return tuple(sorted(earlier, key=lambda e: e.first_vote))


def _aware(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


# --- alarms -------------------------------------------------------------------------------------


def _alarms(engine: Engine, scope: frozenset[str], period: Period) -> tuple[AlarmLine, ...] | None:
    """Alarms raised before the period's end and not cleared before its start, from the ``alarms`` table
    of fleet/ops (read by reflection: reports do not depend on the alarm engine); None without that table."""
    if not inspect(engine).has_table("alarms"):
        return None
    table = Table("alarms", MetaData(), autoload_with=engine)
    c = table.c
    q = (
        select(c.bench_id, c.rule, c.severity, c.message, c.raised_at, c.cleared_at)
        .where(
            c.municipality.in_(sorted(scope)),
            c.raised_at.is_not(None),
            c.raised_at < period.end,
            or_(c.cleared_at.is_(None), c.cleared_at >= period.start),
        )
        .order_by(c.raised_at, c.bench_id)
    )
    with engine.connect() as conn:
        return tuple(
            AlarmLine(b, r, sev, msg, _aware(raised), _aware(cleared) if cleared else None)
            for b, r, sev, msg, raised, cleared in conn.execute(q)
        )


# --- service to citizens ------------------------------------------------------------------------


def _values(
    tsdb: TimeSeriesStore, field: str, bench_id: str, period: Period, every: timedelta
) -> list[tuple[datetime, float]]:
    """The non-empty ``every`` buckets of a bench's field over the period, queried in chunks the store accepts."""
    out: list[tuple[datetime, float]] = []
    chunk = every * (MAX_BUCKETS - 1)
    # Period.start/end are computed properties: bind them once, not per sample.
    first, stop = period.start, period.end
    start = first
    while start < stop:
        end = min(stop, start + chunk)
        out.extend(
            (s.ts, s.value)
            for s in tsdb.query_series(TELEMETRY, field, {"bench_id": bench_id}, start, end, every)
            if s.value is not None and first <= s.ts < stop
        )
        start = end
    return out


def daily_max_sum(values: Sequence[tuple[datetime, float]]) -> float:
    """Sum over local days of a day's highest value: the day's total of a counter that restarts at midnight."""
    best: dict[date, float] = {}
    for ts, value in values:
        day = ts.astimezone(LOCAL_TZ).date()
        best[day] = max(best.get(day, value), value)
    return sum(best.values())


def _bench_service(tsdb: TimeSeriesStore, twin: Twin, period: Period, now: datetime) -> BenchService:
    # Buckets one telemetry interval wide hold at most one sample each, so a bucket's mean is the sample:
    # daily maxima and sums are those of the samples themselves.
    every = timedelta(seconds=twin.expected_interval_s())
    hours = every.total_seconds() / 3600

    samples = len(_values(tsdb, SEQ_FIELD, twin.bench_id, period, every))

    def values(field: str) -> list[tuple[datetime, float]]:
        # A bench silent all period has nothing else to read either (saves nine empty queries).
        return _values(tsdb, field, twin.bench_id, period, every) if samples else []

    ports = tuple(
        PortService(
            kind,
            int(daily_max_sum(values(f"ports.{kind}.sessions_today"))),
            sum(v for _, v in values(f"ports.{kind}.power_w")) * hours,
        )
        for kind in PORT_KINDS
    )
    clients = [v for _, v in values("wifi.clients")]
    covered_end = min(period.end, max(now, period.start))
    a = twin.attributes
    return BenchService(
        bench_id=twin.bench_id,
        name=a.name,
        municipality=a.municipality,
        ports=ports,
        wifi_sessions=int(daily_max_sum(values("wifi.sessions_today"))),
        wifi_clients_mean=sum(clients) / len(clients) if clients else None,
        wifi_clients_peak=int(max(clients, default=0)),
        solar_wh=daily_max_sum(values("solar.energy_today_wh")),
        clear_sky_wh=clear_sky_energy_wh(a.lat, a.lon, a.altitude_m, period.start, period.end),
        samples=samples,
        expected_samples=int((covered_end - period.start) / every),
    )
