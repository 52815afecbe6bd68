"""A report's numbers as one long CSV (one number a row), for spreadsheets and open data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fleet.reports.build import Report

COLUMNS = ("section", "poll_id", "municipality", "bench_id", "key", "value")


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def report_rows(report: Report) -> Iterator[tuple[str, str, str, str, str, str]]:
    """(section, poll_id, municipality, bench_id, key, value) rows; the keys are language independent."""
    scope = report.municipality or ""
    for poll in report.polls:
        for option in poll.options:
            yield "poll_option", poll.poll_id, scope, "", option.option_id, _fmt(option.votes)
        option_ids = [o.option_id for o in poll.options]
        for group in poll.by_municipality:
            for option_id, n in zip(option_ids, group.votes, strict=True):
                yield "poll_municipality", poll.poll_id, group.key, "", option_id, _fmt(n)
        for group in poll.by_bench:
            for option_id, n in zip(option_ids, group.votes, strict=True):
                yield "poll_bench", poll.poll_id, "", group.key, option_id, _fmt(n)
        for day, n in poll.by_day:
            yield "poll_day", poll.poll_id, scope, "", day.isoformat(), _fmt(n)
        for hour, n in enumerate(poll.by_hour):
            yield "poll_hour", poll.poll_id, scope, "", f"{hour:02d}", _fmt(n)
    for earlier in report.earlier:
        yield "earlier_poll", earlier.poll_id, scope, "", "votes", _fmt(earlier.votes)
        yield "earlier_poll", earlier.poll_id, scope, "", "votes_per_day", _fmt(earlier.votes_per_day)
    for bench in report.service:
        row = ("service", "", bench.municipality, bench.bench_id)
        for port in bench.ports:
            yield *row, f"ports.{port.kind}.sessions", _fmt(port.sessions)
            yield *row, f"ports.{port.kind}.energy_wh", _fmt(port.energy_wh)
        yield *row, "wifi.sessions", _fmt(bench.wifi_sessions)
        yield *row, "wifi.clients_mean", _fmt(bench.wifi_clients_mean)
        yield *row, "wifi.clients_peak", _fmt(bench.wifi_clients_peak)
        yield *row, "solar.energy_wh", _fmt(bench.solar_wh)
        yield *row, "solar.clear_sky_wh", _fmt(bench.clear_sky_wh)
        yield *row, "availability.samples", _fmt(bench.samples)
        yield *row, "availability.expected_samples", _fmt(bench.expected_samples)
        yield *row, "availability.online_pct", _fmt(bench.availability_pct)
    if report.alarms is not None:
        per_bench: dict[str, int] = {}
        for alarm in report.alarms:
            per_bench[alarm.bench_id] = per_bench.get(alarm.bench_id, 0) + 1
        for bench in report.service:
            yield "alarms", "", bench.municipality, bench.bench_id, "alarms", _fmt(per_bench.get(bench.bench_id, 0))


def render_csv(report: Report) -> bytes:
    """UTF-8 CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(report_rows(report))
    return out.getvalue().encode("utf-8")
