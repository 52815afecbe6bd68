"""Reports over simulated data equal direct queries of the vote table and the TSDB, and hold one municipality."""

from __future__ import annotations

import csv
import io
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, select

from fleet.cli import main
from fleet.db.schema import vote_events
from fleet.reports.build import Report, ReportSources
from fleet.reports.output import make_report, render
from fleet.reports.period import LOCAL_TZ, parse_period
from fleet.reports.render_pdf import PdfError
from fleet.state.twin_store import TwinStore
from tests.fleet.reports_kit import NOW, STEP, Fleet, make_fleet
from tests.services import PostgresDatabase

NOVEMBER = parse_period("2026-11")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """One simulated fleet for the module (the backfill is the slow part)."""
    database = PostgresDatabase()
    database.create()
    built = make_fleet(database.url, tmp_path_factory.mktemp("reports"))
    yield built
    built.tsdb.close()
    built.engine.dispose()
    database.drop()


def _report(fleet: Fleet, municipality: str | None) -> Report:
    sources = ReportSources(fleet.engine, fleet.tsdb, TwinStore(fleet.engine).list_twins())
    return make_report(sources, municipality, NOVEMBER, NOW)


def _sql_votes(fleet: Fleet, poll_id: str, municipality: str) -> dict[str, int]:
    q = (
        select(vote_events.c.option, func.count())
        .where(
            vote_events.c.poll_id == poll_id,
            vote_events.c.municipality == municipality,
            vote_events.c.ts >= NOVEMBER.start,
            vote_events.c.ts < NOVEMBER.end,
        )
        .group_by(vote_events.c.option)
    )
    with fleet.engine.connect() as conn:
        return {option: int(n) for option, n in conn.execute(q)}


def _written(fleet: Fleet, bench_id: str, field: str) -> list[tuple[date, float]]:
    """The values of a field the backfill wrote for a bench in November, with their local day."""
    return [
        (p.ts.astimezone(LOCAL_TZ).date(), float(p.fields[field]))  # type: ignore[arg-type]
        for p in fleet.points
        if p.tags["bench_id"] == bench_id and field in p.fields and NOVEMBER.start <= p.ts < NOVEMBER.end
    ]


def _daily_max_sum(values: list[tuple[date, float]]) -> float:
    best: dict[date, float] = defaultdict(float)
    for day, value in values:
        best[day] = max(best[day], value)
    return sum(best.values())


def test_participation_equals_the_vote_table(fleet: Fleet) -> None:
    report = _report(fleet, "Mostar")
    assert [p.poll_id for p in report.polls] == ["park-2026"]  # square-2026 is Trebinje's only
    park = report.polls[0]
    expected = _sql_votes(fleet, "park-2026", "Mostar")
    assert {o.option_id: o.votes for o in park.options} == expected
    assert park.total == sum(expected.values()) > 0
    assert sum(n for _, n in park.by_day) == park.total == sum(park.by_hour)
    assert [(g.key, g.total) for g in park.by_bench] == [("mostar-01", park.total)]
    assert [(g.key, g.total) for g in park.by_municipality] == [("Mostar", park.total)]
    # The September poll, all of whose votes precede November, is the comparison.
    assert [(e.poll_id, e.votes) for e in report.earlier] == [("old-2026", _count(fleet, "old-2026", "Mostar"))]


def _count(fleet: Fleet, poll_id: str, municipality: str) -> int:
    q = select(func.count()).where(vote_events.c.poll_id == poll_id, vote_events.c.municipality == municipality)
    with fleet.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def test_service_equals_the_written_telemetry(fleet: Fleet) -> None:
    report = _report(fleet, "Mostar")
    (bench,) = report.service
    assert bench.bench_id == "mostar-01"
    hours = STEP.total_seconds() / 3600
    for port in bench.ports:
        assert port.sessions == _daily_max_sum(_written(fleet, "mostar-01", f"ports.{port.kind}.sessions_today"))
        power = sum(v for _, v in _written(fleet, "mostar-01", f"ports.{port.kind}.power_w"))
        assert port.energy_wh == pytest.approx(power * hours)
    assert sum(p.sessions for p in bench.ports) > 0
    assert bench.wifi_sessions == _daily_max_sum(_written(fleet, "mostar-01", "wifi.sessions_today")) > 0
    clients = [v for _, v in _written(fleet, "mostar-01", "wifi.clients")]
    assert bench.wifi_clients_mean == pytest.approx(sum(clients) / len(clients))
    assert bench.wifi_clients_peak == max(clients)
    assert bench.solar_wh == pytest.approx(_daily_max_sum(_written(fleet, "mostar-01", "solar.energy_today_wh")))
    # Weather makes the harvest smaller than the clear-sky expectation, never larger by much.
    assert 0.05 < (bench.solar_ratio or 0) < 1.1
    samples = len(_written(fleet, "mostar-01", "seq"))
    assert bench.samples == samples
    assert bench.expected_samples == (NOVEMBER.end - NOVEMBER.start) / STEP
    assert bench.availability_pct == pytest.approx(100.0 * samples / bench.expected_samples)


def test_a_municipality_report_holds_no_other_municipality(fleet: Fleet) -> None:
    report = _report(fleet, "Mostar")
    assert report.municipalities == ("Mostar",)
    assert report.language == "bs"
    text = render(report, "csv").decode() + render(report, "html").decode()
    assert "trebinje" not in text.lower()
    assert "Требиње" not in text
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert {r["bench_id"] for r in rows} - {""} == {"mostar-01"}
    assert {r["municipality"] for r in rows} <= {"", "Mostar"}


def test_csv_and_html_carry_the_built_numbers(fleet: Fleet) -> None:
    report = _report(fleet, "Mostar")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    options = {r["key"]: int(r["value"]) for r in rows if r["section"] == "poll_option"}
    assert options == {o.option_id: o.votes for o in report.polls[0].options}
    online = next(r for r in rows if r["key"] == "availability.online_pct")
    assert float(online["value"]) == pytest.approx(report.service[0].availability_pct, abs=1e-3)
    html = render(report, "html").decode()
    assert "Novi park uz Neretvu?" in html
    assert "<script src=" not in html  # plotly.js is inlined: the page opens offline
    assert "Plotly.newPlot" in html


def test_trebinje_report_is_in_serbian_cyrillic(fleet: Fleet) -> None:
    report = _report(fleet, "Trebinje")
    assert report.language == "sr-Cyrl"
    assert [p.poll_id for p in report.polls] == ["square-2026", "park-2026"]  # by opening time
    html = render(report, "html").decode()
    assert "Требиње" in html
    assert "Нови парк уз Неретву?" in html
    assert "mostar" not in html.lower()


def test_fleet_report_covers_every_municipality(fleet: Fleet) -> None:
    report = _report(fleet, None)
    assert len(report.municipalities) == 12
    assert len(report.service) == 12
    park = next(p for p in report.polls if p.poll_id == "park-2026")
    assert {g.key: g.total for g in park.by_municipality if g.total} == {
        m: sum(_sql_votes(fleet, "park-2026", m).values()) for m in ("Mostar", "Trebinje")
    }


def test_cli_writes_the_report(fleet: Fleet, tmp_path: Path) -> None:
    url = fleet.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "mostar.csv"
    args = ["report", "--municipality", "Mostar", "--period", "2026-11", "--format", "csv", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--db", url, "--tsdb", fleet.tsdb_url])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    votes = {r["key"]: int(r["value"]) for r in rows if r["section"] == "poll_option"}
    assert votes == _sql_votes(fleet, "park-2026", "Mostar")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--municipality", "Atlantis", "--period", "2026-11"], "'Atlantis' has no benches"),
        (["--municipality", "Mostar", "--period", "2026-13"], "month 13 is not 1..12"),
        (["--municipality", "Mostar", "--period", "2026-11", "--language", "de"], "'de' is not one of"),
    ],
)
def test_cli_names_bad_input(fleet: Fleet, tmp_path: Path, args: list[str], message: str) -> None:
    url = fleet.engine.url.render_as_string(hide_password=False)
    tsdb = fleet.tsdb_url
    result = CliRunner().invoke(main, ["report", *args, "--out", str(tmp_path / "r.csv"), "--db", url, "--tsdb", tsdb])
    assert result.exit_code != 0
    assert message in result.output


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


@pytest.mark.parametrize(
    ("municipality", "place", "question", "answer"),
    [
        ("Mostar", "Mostar", "Novi park uz Neretvu?", "Glasovi po danu"),
        ("Trebinje", "Требиње", "Нови парк уз Неретву?", "Гласови по дану"),
    ],
)
def test_pdf_holds_the_question_and_the_place_in_its_language(
    fleet: Fleet, tmp_path: Path, municipality: str, place: str, question: str, answer: str
) -> None:
    pdf = render(_report(fleet, municipality), "pdf")
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf, tmp_path)
    assert place in text
    assert question in text
    assert answer in text  # the figures' titles are drawn by plotly.js before printing


def test_pdf_without_a_browser_names_the_setting(fleet: Fleet) -> None:
    with pytest.raises(PdfError, match="BENCHFLEET_CHROMIUM"):
        render(_report(fleet, "Mostar"), "pdf", browser="/nonexistent/chromium")


def test_without_an_alarm_log_the_report_says_so(fleet: Fleet) -> None:
    report = _report(fleet, "Mostar")
    assert report.alarms is None
    assert "Evidencija alarma još nije dostupna" in render(report, "html").decode()


def test_alarms_of_the_period_and_municipality_are_listed(fleet: Fleet) -> None:
    # The columns of fleet/ops's alarms table that reports read (the alarm engine is another branch's).
    meta = MetaData()
    alarms = Table(
        "alarms",
        meta,
        Column("id", Integer, primary_key=True),
        Column("bench_id", String(64)),
        Column("municipality", String(100)),
        Column("rule", String(64)),
        Column("severity", String(16)),
        Column("message", Text),
        Column("raised_at", DateTime(timezone=True)),
        Column("cleared_at", DateTime(timezone=True)),
    )
    meta.create_all(fleet.engine)
    at = NOVEMBER.start
    rows = [
        ("mostar-01", "Mostar", "battery_low", at + timedelta(days=3), at + timedelta(days=4)),
        ("mostar-01", "Mostar", "offline", at - timedelta(days=20), at - timedelta(days=19)),  # before November
        ("trebinje-01", "Trebinje", "tamper", at + timedelta(days=5), None),
    ]
    try:
        with fleet.engine.begin() as conn:
            conn.execute(
                alarms.insert(),
                [
                    {
                        "bench_id": b,
                        "municipality": m,
                        "rule": r,
                        "severity": "warning",
                        "message": r,
                        "raised_at": raised,
                        "cleared_at": cleared,
                    }
                    for b, m, r, raised, cleared in rows
                ],
            )
        report = _report(fleet, "Mostar")
        assert [(a.bench_id, a.rule) for a in report.alarms or ()] == [("mostar-01", "battery_low")]
        alarm_rows = [
            r for r in csv.DictReader(io.StringIO(render(report, "csv").decode())) if r["section"] == "alarms"
        ]
        assert [(r["bench_id"], r["value"]) for r in alarm_rows] == [("mostar-01", "1")]
        assert "battery_low" in render(report, "html").decode()
    finally:
        meta.drop_all(fleet.engine)
