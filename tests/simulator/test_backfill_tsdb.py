"""``simulate --backfill``: history for the 12 benches written into the TSDB the fleet reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.tsdb.sqlite_store import SqliteStore
from simulator.backfill_run import bench_points, history_times, simulate_history
from simulator.cli import run_simulate
from simulator.sites import seed_sites
from tests.services import InfluxService
from twins.messages import Telemetry
from twins.series import SERIES_FIELDS, telemetry_points

STEPS_PER_DAY = 96  # every 15 minutes


def _backfill(tsdb: str, period: str, data_dir: Path) -> int:
    return run_simulate(
        mqtt_url="mqtt://127.0.0.1:1", benches=12, speed=1.0, seed=5, scenario=None, backfill=period,
        tsdb=tsdb, data_dir=data_dir, duration=None,
    )  # fmt: skip


def test_backfill_writes_every_bench_into_the_sqlite_tsdb(tmp_path: Path) -> None:
    """Two days for 12 benches: every sample of every bench is in the store and queryable like live data."""
    url = f"sqlite:///{tmp_path / 'series.db'}"
    assert _backfill(url, "2d", tmp_path) == 0
    store = SqliteStore(tmp_path / "series.db")
    try:
        end = datetime.now(UTC) + timedelta(minutes=1)
        for site in seed_sites():
            tags = {"bench_id": site.bench_id}
            series = store.query_series("telemetry", "seq", tags, end - timedelta(days=3), end, timedelta(minutes=15))
            assert sum(1 for s in series if s.value is not None) == 2 * STEPS_PER_DAY
            soc = store.query_series(
                *SERIES_FIELDS["battery.soc_pct"], tags, end - timedelta(days=3), end, timedelta(hours=6)
            )
            values = [s.value for s in soc if s.value is not None]
            assert values
            assert all(0 <= v <= 100 for v in values)
            assert store.last(*SERIES_FIELDS["ports.scooter.power_w"], tags) is not None
            assert store.last(*SERIES_FIELDS["battery.soc_pct"], {"municipality": site.municipality}) is not None
        solar = store.query_series(
            *SERIES_FIELDS["solar.power_w"], {"bench_id": "mostar-01"}, end - timedelta(days=3), end, timedelta(hours=1)
        )
        assert max(s.value or 0.0 for s in solar) > 10  # the sun shone at some hour of two days
    finally:
        store.close()


def test_backfill_points_match_ingestion(tmp_path: Path) -> None:
    """The directly built points equal what ingestion makes of the same sample through ``Telemetry``."""
    site = seed_sites()[4]
    times = history_times(datetime(2026, 6, 1, 12, tzinfo=UTC), timedelta(hours=6), timedelta(minutes=15))
    frame, ports, _, _ = simulate_history((site, site, 5, times, ()))
    direct = next(bench_points(site, frame, ports))
    row = frame.iloc[10]
    sample = Telemetry.model_validate(
        {
            "v": 1, "bench_id": site.bench_id, "ts": times[10].to_pydatetime(), "seq": 10,
            "battery": {"soc_pct": round(row["soc_pct"], 2), "voltage_v": round(row["voltage_v"], 3),
                        "current_a": round(row["current_a"], 3), "temp_c": round(row["temp_c"], 2)},
            "solar": {"power_w": round(row["solar_power_w"], 1), "energy_today_wh": round(row["energy_today_wh"], 1)},
            "load": {"power_w": round(row["load_power_w"], 2)},
            "ports": [{"id": p, "kind": k, "active": bool(row[f"{p}.active"]), "power_w": round(row[f"{p}.power_w"], 2),
                       "sessions_today": int(row[f"{p}.sessions_today"])} for p, k in ports],
            "wifi": {"clients": int(row["wifi_clients"]), "sessions_today": int(row["wifi_sessions_today"])},
            "votes": {},
        }
    )  # fmt: skip
    expected = telemetry_points(sample, site.municipality)
    assert len(direct) == len(times)  # one wide point per sample
    got = direct[10:11]
    assert [(p.measurement, dict(p.tags), p.ts) for p in got] == [(p.measurement, dict(p.tags), p.ts) for p in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert set(mine.fields) == set(theirs.fields)
        for name, value in theirs.fields.items():
            assert mine.fields[name] == pytest.approx(value, abs=1e-9)
            assert type(mine.fields[name]) is type(value)  # a field keeps its type in the TSDB


def test_backfill_into_influxd(fresh_influxdb: InfluxService, tmp_path: Path) -> None:
    """The same backfill into a real influxd: every telemetry sample stored."""
    assert _backfill(fresh_influxdb.url, "1d", tmp_path) == 0
    for key in ("battery.soc_pct", "ports.usb.power_w", "ports.scooter.sessions_today", "wifi.clients"):
        assert fresh_influxdb.count(*SERIES_FIELDS[key]) == 12 * STEPS_PER_DAY


@pytest.mark.parametrize(
    ("backfill", "tsdb", "message"),
    [("365d", None, "--backfill writes into a time-series store: give --tsdb"),
     ("a year", "sqlite:///x.db", "--backfill: duration 'a year'"),
     ("20m", "sqlite:///x.db", "must span at least two steps"),
     ("2d", "postgres://nope", "BENCHFLEET_TSDB")],
)  # fmt: skip
def test_backfill_flags_are_checked(backfill: str, tsdb: str | None, message: str, tmp_path: Path) -> None:
    """A missing store or a bad period stops with one line naming the flag."""
    with pytest.raises(ValueError, match=message):
        _backfill(tsdb, backfill, tmp_path)  # type: ignore[arg-type]
