"""Bench chart details a person notices: local days for energy bars, whole-number count axes, "no data"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboards.figures.bench_charts import CHART_FIELDS, METRIC_CHARTS, bench_charts, daily_energy_wh, metric_chart
from twins.metrics import METRICS
from twins.series import SeriesSample

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
LABELS = (
    {m.key: m.key for m in METRICS}
    | {k: k for k in ("battery", "solar", "load", "ports", "wifi", "clear_sky", "energy", "energy_title")}
    | {"no_data": "Nema podataka"}
)


def test_energy_is_summed_per_local_day() -> None:
    # 23:30 UTC on 25 Nov is 00:30 on 26 Nov in Sarajevo (UTC+1): it belongs to the 26th.
    hour = timedelta(hours=1)
    power = [
        SeriesSample(datetime(2026, 11, 25, 22, 30, tzinfo=UTC), 10.0),
        SeriesSample(datetime(2026, 11, 25, 23, 30, tzinfo=UTC), 20.0),
    ]
    days = daily_energy_wh(power, hour)
    assert {d.date().isoformat(): wh for d, wh in days.items()} == {"2026-11-25": 10.0, "2026-11-26": 20.0}
    assert all(d.utcoffset() == hour for d in days)


def test_energy_bars_cover_whole_days() -> None:
    series = {key: [SeriesSample(T0, 1.0)] for key in CHART_FIELDS}
    day = daily_energy_wh(series["solar.power_w"], timedelta(hours=1))
    bars = bench_charts(series, [2.0], day, [3.0], LABELS)["energy"]["data"][0]
    assert bars["x"] == ["2026-11-26"]
    assert (bars["xperiod"], bars["xperiodalignment"]) == (86_400_000, "middle")


def test_count_axes_step_by_whole_numbers() -> None:
    series = {key: [SeriesSample(T0 + timedelta(minutes=i), float(i % 3)) for i in range(5)] for key in CHART_FIELDS}
    counted = [c for c in METRIC_CHARTS if any(m.unit == "" for m in METRICS if m.chart == c)]
    assert counted
    for chart in counted:
        layout = metric_chart(chart, series, LABELS)["layout"]
        axis = next(a for a in (layout["yaxis"], layout.get("yaxis2", {})) if a.get("title", {}).get("text") == "#")
        assert axis["tickformat"] == "d"
        assert axis["dtick"] >= 1
        assert isinstance(axis["dtick"], int)


def test_empty_charts_say_no_data() -> None:
    empty = {key: [SeriesSample(T0, None)] for key in CHART_FIELDS}
    charts = bench_charts(empty, [5.0], {}, [], LABELS)
    for name, fig in charts.items():
        assert fig["layout"]["annotations"][0]["text"] == "Nema podataka", name
        assert fig["layout"]["yaxis"]["showticklabels"] is False, name
    assert charts["solar"]["data"][-1]["y"] == [None]  # no expectation drawn alone
    full = bench_charts({key: [SeriesSample(T0, 1.0)] for key in CHART_FIELDS}, [5.0], {}, [], LABELS)
    assert "annotations" not in full["battery"]["layout"]


def test_two_axis_charts_leave_room_on_the_right() -> None:
    series = {key: [SeriesSample(T0, 1.0)] for key in CHART_FIELDS}
    layout = metric_chart("battery", series, LABELS)["layout"]
    assert layout["yaxis2"]["automargin"] is True
    assert layout["margin"]["r"] >= 60
