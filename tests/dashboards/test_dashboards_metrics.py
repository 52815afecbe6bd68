"""What the dashboards derive from the metric table: summary keys, fleet columns, chart traces, live traces, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from dashboards.figures.bench_charts import CHART_FIELDS, LIVE_TRACES, METRIC_CHARTS, bench_charts, chart_metrics
from dashboards.fleet_data import COLUMNS as FLEET_COLUMNS
from dashboards.views_model import PAGE_KEYS, summarise
from tests.dashboards.fake_fleet import seed_twins, telemetry
from twins.metrics import METRICS
from twins.series import SERIES_FIELDS, SeriesSample
from twins.twin import apply_telemetry

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "dashboards" / "translations"
T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
#: The metrics of the summary JSON as bench.js, fleet.js and API scripts read it: the metric keys.
SUMMARY_METRIC_KEYS = {
    "battery.soc_pct",
    "battery.temp_c",
    "solar.power_w",
    "solar.energy_today_wh",
    "load.power_w",
    "ports.power_w",
    "ports.sessions_today",
    "wifi.clients",
}


def test_summary_keys_and_values_come_from_the_table() -> None:
    twin = seed_twins()[0]
    empty = summarise(twin, T0).as_json()
    other = {
        "bench_id",
        "name",
        "municipality",
        "lat",
        "lon",
        "health",
        "reasons",
        "reason_texts",
        "online",
        "last_seen",
    }
    assert set(empty) == SUMMARY_METRIC_KEYS | other | {"config_state", "desired_version", "ts"}
    assert all(empty[k] is None for k in SUMMARY_METRIC_KEYS)
    fed, _ = apply_telemetry(twin, telemetry(twin.bench_id, T0, 5, soc=42.0, load=30.0), T0)
    doc = summarise(fed, T0).as_json()
    got = (doc["battery.soc_pct"], doc["load.power_w"], doc["ports.power_w"], doc["ports.sessions_today"])
    assert got == (42.0, 30.0, 7.5, 14)
    assert {m.key for m in METRICS if m.summary} == SUMMARY_METRIC_KEYS


def test_fleet_columns_carry_the_fleet_metrics() -> None:
    assert {"battery.soc_pct", "load.power_w"} <= set(FLEET_COLUMNS)
    assert set(PAGE_KEYS.values()) <= SUMMARY_METRIC_KEYS  # the pages read only what the summary carries
    assert len(FLEET_COLUMNS) == len(set(FLEET_COLUMNS))


def test_charts_draw_each_charted_metric_once_with_its_label() -> None:
    assert set(CHART_FIELDS) <= set(SERIES_FIELDS)
    assert sorted(CHART_FIELDS) == sorted(m.key for m in METRICS if m.chart)
    series = {key: [SeriesSample(T0 + timedelta(minutes=i), float(i)) for i in range(3)] for key in CHART_FIELDS}
    labels = {m.key: f"label of {m.key}" for m in METRICS} | {
        k: k for k in ("battery", "solar", "load", "ports", "wifi", "clear_sky", "energy", "energy_title")
    }
    charts = bench_charts(series, [1.0, 2.0, 3.0], {T0: 5.0}, [6.0], labels)
    assert set(charts) == {"battery", "solar", "energy", "load", "ports", "wifi"}
    for chart in METRIC_CHARTS:
        names = [trace["name"] for trace in charts[chart]["data"]]
        assert names[: len(chart_metrics(chart))] == [f"label of {m.key}" for m in chart_metrics(chart)]
    assert charts["battery"]["layout"]["yaxis"]["title"]["text"] == "%"
    assert charts["battery"]["layout"]["yaxis2"]["title"]["text"] == "°C"
    assert charts["battery"]["data"][1]["yaxis"] == "y2"
    assert charts["solar"]["data"][-1]["name"] == "clear_sky"
    assert charts["solar"]["data"][0]["fill"] == "tozeroy"


def test_live_traces_point_at_the_trace_of_their_metric() -> None:
    by_key = {m.key: m for m in METRICS if m.summary}
    assert len(LIVE_TRACES) == len(CHART_FIELDS)
    for chart, index, key in LIVE_TRACES:
        assert chart_metrics(chart)[index] is by_key[key]  # type: ignore[arg-type]


def test_metric_labels_are_marked_for_extraction() -> None:
    """``pybabel extract -k N_`` finds every metric label literally in twins/metrics.py."""
    found = {
        msg
        for _line, msg, _comments, _context in extract_from_file(
            "python", ROOT / "twins" / "metrics.py", keywords={"N_": None}
        )
    }
    assert {m.label for m in METRICS} <= found


@pytest.mark.parametrize("locale", ["bs", "hr", "sr_Latn", "sr_Cyrl", "en"])
def test_charted_metric_labels_are_translated(locale: str) -> None:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        translated = {m.id for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    assert {m.translation_key for m in METRICS if m.chart} <= translated
