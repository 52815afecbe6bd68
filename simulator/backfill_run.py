"""History for the TSDB: a year (or any period) of telemetry for the benches, computed in one vectorised pass.

The physics' ``backfill`` gives one row per timestamp; here the rows become the same TSDB points ingestion
writes (``twins.series.telemetry_points``: one wide ``telemetry`` point per sample). Rather than one
``Telemetry`` model per row (2x slower), the frame is turned into one ``Telemetry``-shaped view whose leaves
are whole columns, and each metric's ``value_fn`` (twins/metrics.py) computes its whole column at once; the
test ``test_backfill_points_match_ingestion`` holds both paths equal.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd

from simulator.physics.backfill import backfill
from simulator.physics.bench_model import BenchModel
from simulator.physics.climate import climate_for
from simulator.physics.solar import Site
from simulator.physics.weather import SolarDayCache
from simulator.sites import BenchSite
from twins.messages import Telemetry
from twins.metrics import METRICS
from twins.series import SEQ_FIELD, TELEMETRY, FieldValue, SeriesPoint

DEFAULT_STEP = timedelta(minutes=15)
CHUNK_ROWS = 2_000
# Telemetry section → its (physics frame column, attribute in the section, decimals a bench reports; None: a count).
_SECTION_COLUMNS: dict[str, tuple[tuple[str, str, int | None], ...]] = {
    "battery": (("soc_pct", "soc_pct", 2), ("voltage_v", "voltage_v", 3), ("current_a", "current_a", 3),
                ("temp_c", "temp_c", 2)),
    "solar": (("solar_power_w", "power_w", 1), ("energy_today_wh", "energy_today_wh", 1)),
    "load": (("load_power_w", "power_w", 2),),
    "wifi": (("wifi_clients", "clients", None), ("wifi_sessions_today", "sessions_today", None)),
}  # fmt: skip
PORT_POWER_DECIMALS = 2


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill wrote and how long it took."""

    benches: int
    samples: int
    points: int
    start: datetime
    end: datetime
    step: timedelta
    physics_s: float
    write_s: float
    total_s: float


def history_times(end: datetime, period: timedelta, step: timedelta) -> pd.DatetimeIndex:
    """Timestamps every ``step`` over ``period`` ending at ``end`` (rounded down to the step), UTC."""
    if step <= timedelta(0):
        raise ValueError(f"backfill step must be positive, got {step}")
    if period < 2 * step:
        raise ValueError(f"backfill period {period} must span at least two steps of {step}")
    step_s = int(step.total_seconds())
    end_s = int(end.timestamp()) // step_s * step_s
    count = int(period.total_seconds()) // step_s
    epochs = end_s - step_s * np.arange(count - 1, -1, -1, dtype=np.int64)
    return pd.DatetimeIndex(pd.to_datetime(epochs, unit="s", utc=True))


def _model(site: BenchSite, sky: BenchSite, seed: int, cache: SolarDayCache) -> BenchModel:
    return BenchModel(
        bench_id=site.bench_id,
        site=Site(sky.bench_id, sky.lat, sky.lon, sky.altitude_m),
        climate=climate_for(site.municipality),
        solar=cache,
        weather_seed=seed,
        usage_seed=seed,
    )


def _column(frame: pd.DataFrame, name: str, decimals: int | None) -> np.ndarray[Any, Any]:
    """A frame column as a bench reports it: floats rounded to ``decimals``, counts (None) as integers."""
    column: np.ndarray[Any, Any]
    if decimals is None:
        column = frame[name].to_numpy(dtype=np.int64)
    else:
        column = np.round(frame[name].to_numpy(dtype=float), decimals)
    return column


def column_view(frame: pd.DataFrame, ports: Sequence[tuple[str, str]]) -> Telemetry:
    """The frame as one ``Telemetry``-shaped object whose leaves are numpy columns (for metric ``value_fn``s).

    Not a real ``Telemetry``: only what ``value_fn``s read (sections, ports with kind, active, power_w,
    sessions_today), so that each metric computes a whole column in one vectorised call.
    """
    sections = {
        section: SimpleNamespace(**{attr: _column(frame, col, digits) for col, attr, digits in columns})
        for section, columns in _SECTION_COLUMNS.items()
    }
    port_views = [
        SimpleNamespace(
            id=port_id,
            kind=kind,
            active=frame[f"{port_id}.active"].to_numpy(dtype=bool),
            power_w=_column(frame, f"{port_id}.power_w", PORT_POWER_DECIMALS),
            sessions_today=_column(frame, f"{port_id}.sessions_today", None),
        )
        for port_id, kind in ports
    ]
    return cast(Telemetry, SimpleNamespace(**sections, ports=port_views))


def _as_list(values: object, rows: int) -> list[Any]:
    """A metric's column as Python values (a constant, e.g. 0 from an empty sum, repeated per row)."""
    if isinstance(values, np.ndarray):
        return list(values.tolist())
    return [values] * rows


def bench_points(site: BenchSite, frame: pd.DataFrame, ports: Sequence[tuple[str, str]]) -> Iterator[list[SeriesPoint]]:
    """The TSDB points of a backfill frame (one per timestamp), in chunks of CHUNK_ROWS timestamps."""
    tags = {"bench_id": site.bench_id, "municipality": site.municipality}
    stamps = frame.index.to_pydatetime().tolist()
    view = column_view(frame, ports)
    columns = [(m.field, _as_list(values, len(stamps))) for m in METRICS if (values := m.value_fn(view)) is not None]
    for lo in range(0, len(stamps), CHUNK_ROWS):
        chunk: list[SeriesPoint] = []
        for i in range(lo, min(lo + CHUNK_ROWS, len(stamps))):
            fields: dict[str, FieldValue] = {name: col[i] for name, col in columns}
            fields[SEQ_FIELD] = i
            chunk.append(SeriesPoint(TELEMETRY, tags, fields, stamps[i]))
        yield chunk


def simulate_history(
    job: tuple[BenchSite, BenchSite, int, pd.DatetimeIndex],
) -> tuple[pd.DataFrame, list[tuple[str, str]], float]:
    """One bench's backfill frame and ports (runs in a worker process), with the seconds it took."""
    site, sky, seed, times = job
    began = time.perf_counter()
    model = _model(site, sky, seed, SolarDayCache(max_entries=8))
    frame = backfill(model, times).frame
    ports = [(p.port_id, p.kind) for p in model.assumptions.loads.ports]
    return frame, ports, time.perf_counter() - began


def run_backfill(
    sites: Sequence[BenchSite],
    seed: int,
    end: datetime,
    period: timedelta,
    write: Callable[[Sequence[SeriesPoint]], object],  # SpoolingWriter.write returns the refused count
    step: timedelta = DEFAULT_STEP,
    progress: bool = True,
    workers: int = 1,
) -> BackfillReport:
    """Simulate ``period`` of history up to ``end`` for each bench and hand its points to ``write``."""
    from tqdm import tqdm

    began = time.perf_counter()
    times = history_times(end, period, step)
    skies = {s.bench_id: s for s in sites if not s.home_id}
    jobs = [(site, skies.get(site.sky_id, site), seed, times) for site in sites]
    physics_s = write_s = 0.0
    points = 0
    # The physics of the next benches runs in a worker process while this one writes (the two halves
    # take similar time, and the GIL would serialise them in threads).
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
        tqdm(total=len(sites) * len(times), unit="sample", disable=not progress, desc="backfill") as bar,
    ):
        for site, (frame, ports, seconds) in zip(sites, pool.map(simulate_history, jobs), strict=True):
            physics_s += seconds
            for chunk in bench_points(site, frame, ports):
                t = time.perf_counter()
                write(chunk)
                write_s += time.perf_counter() - t
                points += len(chunk)
                bar.update(len(chunk))
    return BackfillReport(
        benches=len(sites),
        samples=len(sites) * len(times),
        points=points,
        start=times[0].to_pydatetime(),
        end=times[-1].to_pydatetime(),
        step=step,
        physics_s=physics_s,
        write_s=write_s,
        total_s=time.perf_counter() - began,
    )
