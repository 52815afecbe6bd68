"""History for the TSDB: a year (or any period) of telemetry for the benches, computed in one vectorised pass.

The physics' ``backfill`` gives one row per timestamp; here the rows become the same TSDB points ingestion
writes (``twins.series.telemetry_points``: one wide ``telemetry`` point per sample). Rather than one
``Telemetry`` model per row (2x slower), the frame is turned into one ``Telemetry``-shaped view whose leaves
are whole columns, and each metric's ``value_fn`` (twins/metrics.py) computes its whole column at once; the
test ``test_backfill_points_match_ingestion`` holds both paths equal. With ``write_events`` the history
also has the benches' events as the agent sends them: finished port sessions (runs of active samples) and
votes for the configured polls inside their open windows, with ids deterministic per (seed, bench, time).
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd

from simulator.physics.backfill import backfill
from simulator.physics.bench_model import DEFAULT_CONTROLS, BenchModel
from simulator.physics.climate import climate_for
from simulator.physics.solar import Site
from simulator.physics.votes import PollSpec, VoteDraw
from simulator.physics.weather import SolarDayCache
from simulator.sites import BenchSite
from twins.config import Poll
from twins.messages import BenchEvent, PortSessionData, PortSessionEvent, Telemetry, VoteData, VoteEvent
from twins.metrics import METRICS
from twins.series import SEQ_FIELD, TELEMETRY, SeriesColumns, SeriesPoint

DEFAULT_STEP = timedelta(minutes=15)
MIN_STEP = timedelta(seconds=60)
"""The benches' real telemetry interval: a finer history would hold samples no bench sends."""
CHUNK_ROWS = 5_000  # points per write: InfluxDB's recommended batch, and SpoolingWriter's batch_size
WRITES_AHEAD = 4  # chunks built but not yet written (bounds memory: ~4 x 5,000 points, ~11 MB of line protocol)
PHYSICS_AHEAD = 2  # benches whose physics is computed or waiting ahead of the one being written
# Telemetry section → its (physics frame column, attribute in the section, decimals a bench reports; None: a count).
_SECTION_COLUMNS: dict[str, tuple[tuple[str, str, int | None], ...]] = {
    "battery": (("soc_pct", "soc_pct", 2), ("voltage_v", "voltage_v", 3), ("current_a", "current_a", 3),
                ("temp_c", "temp_c", 2)),
    "solar": (("solar_power_w", "power_w", 1), ("energy_today_wh", "energy_today_wh", 1)),
    "load": (("load_power_w", "power_w", 2),),
    "wifi": (("wifi_clients", "clients", None), ("wifi_sessions_today", "sessions_today", None)),
}  # fmt: skip
PORT_POWER_DECIMALS = 2
# Namespace of the history's event ids: uuid5 of (seed, bench, time, ...) so a rerun writes the same ids.
EVENT_NAMESPACE = uuid.UUID("6f1d3c2a-8e51-4b0e-9a57-2f1c0b7d9e43")
ENERGY_DECIMALS = 2


@dataclass(frozen=True)
class PollWindow:
    """A poll as a bench's desired config held it: its options and the window it was open in."""

    poll_id: str
    options: tuple[str, ...]
    opens: datetime
    closes: datetime

    @classmethod
    def of(cls, poll: Poll) -> PollWindow:
        """The window of a configured poll (``twins.config.Poll``)."""
        return cls(poll.id, tuple(o.id for o in poll.options), poll.opens, poll.closes)

    def open_at(self, t_s: float) -> bool:
        """Whether the kiosk showed the poll at epoch second ``t_s``."""
        return self.opens.timestamp() <= t_s < self.closes.timestamp()


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill wrote and how long it took."""

    benches: int
    samples: int
    points: int
    port_sessions: int
    votes: int
    start: datetime
    end: datetime
    step: timedelta
    physics_s: float
    write_s: float
    total_s: float
    final_soc: dict[str, float]
    """Each bench's battery charge (%) at the last sample, where a live run continues."""


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


def _as_column(values: object, rows: int) -> np.ndarray[Any, Any]:
    """A metric's column (a constant, e.g. 0 from an empty sum, repeated per row)."""
    if isinstance(values, np.ndarray):
        return values
    return np.full(rows, values)


def bench_points(site: BenchSite, frame: pd.DataFrame, ports: Sequence[tuple[str, str]]) -> Iterator[SeriesColumns]:
    """The TSDB points of a backfill frame (one per timestamp), in chunks of CHUNK_ROWS timestamps.

    Each chunk is a ``SeriesColumns`` (a ``Sequence[SeriesPoint]`` held as columns): no Python object per
    point or value unless a store asks for points; influxd gets line protocol encoded column-wise.
    """
    tags = {"bench_id": site.bench_id, "municipality": site.municipality}
    rows = len(frame)
    view = column_view(frame, ports)
    fields = {m.field: _as_column(values, rows) for m in METRICS if (values := m.value_fn(view)) is not None}
    fields[SEQ_FIELD] = np.arange(rows, dtype=np.int64)
    stamps = frame.index.as_unit("ms").asi8
    whole = SeriesColumns(TELEMETRY, tags, stamps, fields)
    for lo in range(0, rows, CHUNK_ROWS):
        yield whole[lo : lo + CHUNK_ROWS]


HistoryJob = tuple[BenchSite, BenchSite, int, pd.DatetimeIndex, tuple[PollWindow, ...]]
"""One bench's backfill: its site, the site whose sky it shares, the seed, the timestamps and its polls."""


def simulate_history(job: HistoryJob) -> tuple[pd.DataFrame, list[tuple[str, str]], list[VoteDraw], float]:
    """One bench's backfill frame, ports and votes (runs in a worker process), with the seconds it took.

    Visitors answer every poll configured for the bench; only votes inside a poll's open window are kept
    (the kiosk shows a poll only then).
    """
    site, sky, seed, times, polls = job
    began = time.perf_counter()
    model = _model(site, sky, seed, SolarDayCache(max_entries=8))
    controls = DEFAULT_CONTROLS
    if polls:
        specs = tuple(PollSpec(p.poll_id, p.options) for p in polls)
        controls = dataclasses.replace(DEFAULT_CONTROLS, open_polls=specs)
    result = backfill(model, times, controls)
    windows = {p.poll_id: p for p in polls}
    votes = [v for v in result.votes if windows[v.poll_id].open_at(v.t_s)]
    ports = [(p.port_id, p.kind) for p in model.assumptions.loads.ports]
    return result.frame, ports, votes, time.perf_counter() - began


def _event_id(seed: int, bench_id: str, *key: object) -> uuid.UUID:
    """A deterministic event id: the same (seed, bench, time, ...) gives the same id on every rerun."""
    return uuid.uuid5(EVENT_NAMESPACE, "/".join(map(str, (seed, bench_id, *key))))


def port_session_events(
    site: BenchSite, frame: pd.DataFrame, ports: Sequence[tuple[str, str]], seed: int
) -> list[PortSessionEvent]:
    """The finished charging sessions of a backfill frame, as the agent reports them (``port_session``).

    A session is a run of samples with the port active: it started one step before its first active
    sample and ended at its last; its energy is the sampled power times the step. A session still running
    at the end of the history is not finished, so not reported (the live agent reports it later).
    """
    epochs = frame.index.as_unit("s").asi8
    if len(epochs) < 2:
        return []
    step_s = int(epochs[1] - epochs[0])
    events: list[PortSessionEvent] = []
    for port_id, kind in ports:
        active = frame[f"{port_id}.active"].to_numpy(dtype=np.int8)
        edges = np.diff(np.concatenate(([0], active, [0])))
        first, after = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        energy = np.concatenate(([0.0], np.cumsum(frame[f"{port_id}.power_w"].to_numpy(dtype=float))))
        for lo, hi in zip(first.tolist(), after.tolist(), strict=True):
            if hi == len(epochs):
                continue
            started = datetime.fromtimestamp(int(epochs[lo]) - step_s, UTC)
            ended = datetime.fromtimestamp(int(epochs[hi - 1]), UTC)
            wh = round(float(energy[hi] - energy[lo]) * step_s / 3600.0, ENERGY_DECIMALS)
            data = PortSessionData(port_id=port_id, kind=kind, started=started, ended=ended, energy_wh=wh)  # type: ignore[arg-type]
            event_id = _event_id(seed, site.bench_id, "port_session", port_id, int(epochs[lo]))
            events.append(
                PortSessionEvent(v=1, bench_id=site.bench_id, ts=ended, id=event_id, type="port_session", data=data)
            )
    events.sort(key=lambda e: e.ts)
    return events


def vote_events(site: BenchSite, votes: Sequence[VoteDraw], seed: int) -> list[VoteEvent]:
    """The kiosk's vote events of a backfill (stamped in whole seconds, like the kiosk).

    Ids per (seed, bench, time, poll, ordinal): several visitors may vote in one simulated step, so the
    ordinal keeps their ids apart, and the same seed still gives the same ids (a rerun counts nothing twice).
    """
    return [
        VoteEvent(
            v=1,
            bench_id=site.bench_id,
            ts=datetime.fromtimestamp(int(v.t_s), UTC),
            id=_event_id(seed, site.bench_id, "vote", repr(float(v.t_s)), v.poll_id, str(i)),
            type="vote",
            data=VoteData(poll_id=v.poll_id, option=v.option),
        )
        for i, v in enumerate(votes)
    ]


def run_backfill(
    sites: Sequence[BenchSite],
    seed: int,
    end: datetime,
    period: timedelta,
    write: Callable[[Sequence[SeriesPoint]], object],  # SpoolingWriter.write returns the refused count
    step: timedelta = DEFAULT_STEP,
    progress: bool = True,
    workers: int = 1,
    polls: Mapping[str, Sequence[PollWindow]] | None = None,
    write_events: Callable[[str, Sequence[BenchEvent]], None] | None = None,
    prepare: Callable[[Sequence[SeriesPoint]], Sequence[SeriesPoint]] | None = None,
) -> BackfillReport:
    """Simulate ``period`` of history up to ``end`` for each bench and hand its points to ``write``.

    Points go in chunks of CHUNK_ROWS (``SeriesColumns``); ``write`` runs on a thread of its own, in order.
    ``prepare`` (e.g. ``SpoolingWriter.prepare``: influxd's line protocol) runs on this thread for the next
    chunk while ``write`` waits for the store.

    With ``write_events``, each bench's port sessions and votes (for its ``polls``, bench id → polls) go
    to it with the bench's municipality, to be stored as ingestion stores events.
    """
    from tqdm import tqdm

    began = time.perf_counter()
    times = history_times(end, period, step)
    skies = {s.bench_id: s for s in sites if not s.home_id}
    polls = polls or {}
    jobs = [(site, skies.get(site.sky_id, site), seed, times, tuple(polls.get(site.bench_id, ()))) for site in sites]
    physics_s = 0.0
    points = sessions = votes = 0
    write_times: list[float] = []
    final_soc: dict[str, float] = {}

    def timed(fn: Callable[..., object], *args: Any) -> None:
        t = time.perf_counter()
        fn(*args)
        write_times.append(time.perf_counter() - t)

    pending: deque[Future[None]] = deque()

    def submit(fn: Callable[..., object], *args: Any) -> None:
        # Bounded: the oldest write must finish (and its error surface) before more chunks pile up.
        pending.append(writer.submit(timed, fn, *args))
        while len(pending) > WRITES_AHEAD:
            pending.popleft().result()

    # The physics of the next benches runs in a worker process while this one writes (the two halves
    # take similar time, and the GIL would serialise them in threads). Writes run on one thread of their
    # own, in order: while it waits for the store's answer, the next chunk's points are built.
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-write") as writer,
        tqdm(total=len(sites) * len(times), unit="sample", disable=not progress, desc="backfill") as bar,
    ):
        # At most PHYSICS_AHEAD benches' frames wait in memory (a bench-year at 60 s is ~110 MB). The first
        # bench is computed here, while the worker process starts (importing pandas and pvlib takes a
        # second or two) and computes the next: nothing waits for the worker before the first write.
        computing: deque[Future[tuple[pd.DataFrame, list[tuple[str, str]], list[VoteDraw], float]]] = deque()
        upcoming = iter(jobs)
        first = next(upcoming, None)
        for job in itertools.islice(upcoming, max(PHYSICS_AHEAD, workers + 1) - 1):
            computing.append(pool.submit(simulate_history, job))
        if first is not None:
            computing.appendleft(Future())
            computing[0].set_result(simulate_history(first))
        for site in sites:
            frame, ports, drawn, seconds = computing.popleft().result()
            for job in itertools.islice(upcoming, 1):
                computing.append(pool.submit(simulate_history, job))
            physics_s += seconds
            final_soc[site.bench_id] = float(frame["soc_pct"].iloc[-1])
            if write_events is not None:
                events: list[BenchEvent] = [*port_session_events(site, frame, ports, seed)]
                events.extend(vote_events(site, drawn, seed))
                sessions += len(events) - len(drawn)
                votes += len(drawn)
                submit(write_events, site.municipality, events)
            for chunk in bench_points(site, frame, ports):
                submit(write, chunk if prepare is None else prepare(chunk))
                points += len(chunk)
                bar.update(len(chunk))
        while pending:
            pending.popleft().result()
    write_s = sum(write_times)
    return BackfillReport(
        benches=len(sites),
        samples=len(sites) * len(times),
        points=points,
        port_sessions=sessions,
        votes=votes,
        start=times[0].to_pydatetime(),
        end=times[-1].to_pydatetime(),
        step=step,
        physics_s=physics_s,
        write_s=write_s,
        total_s=time.perf_counter() - began,
        final_soc=final_soc,
    )
