"""Queries behind the bench charts: fetch the series, compute the clear-sky expectation, build figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dashboards.figures.bench_charts import CHART_FIELDS, ChartRange, bench_charts, daily_energy_wh, local_midnight
from dashboards.figures.clearsky import clear_sky_daily_wh, clear_sky_power_w
from dashboards.labels import bench_chart_labels
from fleet.service_api import FleetApi
from twins.metrics import SOLAR_POWER
from twins.twin import Twin

DAY = timedelta(days=1)


def bench_figures(fleet: FleetApi, twin: Twin, rng: ChartRange) -> dict[str, dict[str, Any]]:
    """Every chart of one bench over ``rng``."""
    end = fleet.now()
    start = end - rng.span
    series = {f: fleet.series(twin.bench_id, f, start, end, rng.every) for f in CHART_FIELDS}
    a = twin.attributes
    panel_wp = twin.reported.hardware.panel_wp if twin.reported else None
    solar = series[SOLAR_POWER.key]
    # The energy bars count whole local days: the first day is read from its midnight, not from the range start,
    # so a day reads the same in every range.
    day_start = local_midnight(start)
    whole_days = (
        solar if day_start >= start else fleet.series(twin.bench_id, SOLAR_POWER.key, day_start, end, rng.every)
    )
    daily = daily_energy_wh(whole_days, rng.every)
    daily_clear = clear_sky_daily_wh(a.lat, a.lon, a.altitude_m, sorted(daily), panel_wp)
    if rng.every >= DAY:
        # A daily bucket (one per day of `daily`) holds the day's mean power: compare it with the clear-sky
        # day's mean power, not with the clear sky at midnight (0 W).
        clear = [wh / 24 for wh in daily_clear]
    else:
        clear = clear_sky_power_w(a.lat, a.lon, a.altitude_m, [s.ts for s in solar], panel_wp)
    return bench_charts(series, clear, daily, daily_clear, bench_chart_labels())
