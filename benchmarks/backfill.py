"""Time ``benchfleet simulate --backfill 365d`` for the 12 seed benches, into the SQLite TSDB and influxd.

    python benchmarks/backfill.py [--period 365d] [--runs 3] [--no-influx] [--no-sqlite]
    python benchmarks/backfill.py --compare-points   # points built directly vs through Telemetry models
    python benchmarks/backfill.py --against-raw [--period 365d] [--step 60s] [--runs 1]

Each run writes into a fresh store (a new SQLite file; a fresh influxd database started from Debian's
package on a free port). Prints every run's wall time and the median, the physics/write split, and the CPU
seconds influxd itself spent (what the point layout costs the database; less noisy than wall time).

``--against-raw`` times the backfill against influxd's raw write rate for the same bytes (same batches, one
keep-alive connection each), halves alternating, and prints the CPU ratio besides the wall ratio: raw
influxd CPU / (backfill influxd CPU + the backfill's own CPU), what a machine with no idle core would show.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.cli import run_simulate  # noqa: E402
from tests.services import InfluxService  # noqa: E402

TARGET_S = 60.0


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc), 0 if it is gone."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(tsdb: str, period: str, folder: Path) -> tuple[float, str]:
    """Run the backfill once; wall seconds and the command's summary line."""
    err = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stderr(err):
        code = run_simulate("mqtt://127.0.0.1:1", 12, 1.0, 2023, None, period, tsdb, folder, None)
    wall = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"backfill into {tsdb} failed:\n{err.getvalue()}")
    summary = [line for line in re.split(r"[\r\n]", err.getvalue()) if line.startswith("backfill: ")]
    return wall, summary[-1] if summary else ""


def compare_point_paths() -> None:
    """Build one bench-year of points directly and through ``Telemetry`` + ``telemetry_points``; print both."""
    from datetime import UTC, datetime, timedelta

    from simulator.backfill_run import DEFAULT_STEP, bench_points, history_times, simulate_history
    from simulator.sites import seed_sites
    from twins.messages import Telemetry
    from twins.series import telemetry_points

    site = seed_sites()[4]
    times = history_times(datetime.now(UTC), timedelta(days=365), DEFAULT_STEP)
    frame, ports, _, _ = simulate_history((site, site, 2023, times, ()))
    began = time.perf_counter()
    direct = sum(len(chunk) for chunk in bench_points(site, frame, ports))
    direct_s = time.perf_counter() - began
    began = time.perf_counter()
    rows = frame.to_dict("records")
    stamps = frame.index.to_pydatetime()
    via_models = 0
    for i, row in enumerate(rows):
        sample = Telemetry.model_validate(
            {
                "v": 1, "bench_id": site.bench_id, "ts": stamps[i], "seq": i,
                "battery": {"soc_pct": round(row["soc_pct"], 2), "voltage_v": round(row["voltage_v"], 3),
                            "current_a": round(row["current_a"], 3), "temp_c": round(row["temp_c"], 2)},
                "solar": {"power_w": round(row["solar_power_w"], 1),
                          "energy_today_wh": round(row["energy_today_wh"], 1)},
                "load": {"power_w": round(row["load_power_w"], 2)},
                "ports": [{"id": p, "kind": k, "active": bool(row[f"{p}.active"]),
                           "power_w": round(row[f"{p}.power_w"], 2),
                           "sessions_today": int(row[f"{p}.sessions_today"])} for p, k in ports],
                "wifi": {"clients": int(row["wifi_clients"]), "sessions_today": int(row["wifi_sessions_today"])},
                "votes": {},
            }
        )  # fmt: skip
        via_models += len(telemetry_points(sample, site.municipality))
    models_s = time.perf_counter() - began
    print(f"one bench-year ({len(rows)} samples, {direct} points): direct {direct_s:.2f} s, "
          f"through Telemetry models {models_s:.2f} s ({models_s / direct_s:.1f}x)")  # fmt: skip
    assert direct == via_models


RAW_TARGET = 0.8


def _post_all(host: str, port: int, database: str, bodies: list[bytes]) -> float:
    """POST pre-encoded bodies to influxd's /write with a bare keep-alive HTTP client; seconds it took."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=120)
    path = f"/write?db={database}&precision=ms"
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    began = time.perf_counter()
    for body in bodies:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status >= 300:
            raise SystemExit(f"influxd refused a raw batch: HTTP {resp.status}")
    took = time.perf_counter() - began
    conn.close()
    return took


@dataclass
class Half:
    """One half of a run: wall seconds, points, influxd's CPU seconds, our own CPU seconds, load average."""

    wall: float
    points: int
    influxd_cpu: float
    own_cpu: float = 0.0
    split: str = ""
    load: tuple[float, float] = (0.0, 0.0)


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the backfill's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def raw_write_s(base: Path, end: object, period: object, step: object) -> Half:
    """influxd's raw write time for the backfill's points: every body encoded first (not timed), one bench
    at a time (a bench-year is ~290 MB of line protocol), then posted by a bare HTTP client (timed).

    The bodies are the backfill's very bytes: its chunks (same points, same batch size) encoded as its
    store encodes them (column-wise), checked equal to the per-point reference encoder for each bench's
    first chunk; one keep-alive connection, as the backfill's one writer thread."""
    from fleet.tsdb.line_protocol import encode_batch, encode_columns
    from simulator.backfill_run import bench_points, history_times, simulate_history
    from simulator.sites import fleet_sites

    influx = InfluxService(base / "raw")
    influx.start()
    try:
        times = history_times(end, period, step)  # type: ignore[arg-type]
        sites = fleet_sites(12, 2023)
        skies = {s.bench_id: s for s in sites if not s.home_id}
        total = cpu = 0.0
        points = 0
        load = os.getloadavg()[0]
        for site in sites:
            frame, ports, _, _ = simulate_history((site, skies.get(site.sky_id, site), 2023, times, ()))
            chunks = list(bench_points(site, frame, ports))
            bodies = [encode_columns(chunk) for chunk in chunks]
            assert bodies[0] == encode_batch(list(chunks[0])), "column-wise bytes differ from the reference"
            points += len(times)
            del frame, chunks
            before = cpu_seconds(influx.pid)
            total += _post_all(influx.host, influx.port, influx.database, bodies)
            cpu += cpu_seconds(influx.pid) - before
        return Half(total, points, cpu, load=(load, os.getloadavg()[0]))
    finally:
        influx.stop()
        shutil.rmtree(base / "raw", ignore_errors=True)


def backfill_s(base: Path, end: object, period: object, step: object) -> Half:
    """The backfill as ``simulate --backfill`` runs it (physics, points, the fleet's writer), wall seconds."""
    from fleet.tsdb.factory import open_tsdb
    from fleet.tsdb.writer import SpoolingWriter
    from simulator.backfill_run import run_backfill
    from simulator.sites import fleet_sites

    influx = InfluxService(base / "fleet")
    influx.start()
    try:
        store = open_tsdb(influx.url)
        writer = SpoolingWriter(store, base / "spool")
        load = os.getloadavg()[0]
        influxd_before, own_before = cpu_seconds(influx.pid), own_cpu_seconds()
        began = time.perf_counter()
        report = run_backfill(
            fleet_sites(12, 2023), 2023, end, period, writer.write, step=step, progress=False,  # type: ignore[arg-type]
            prepare=writer.prepare,
        )  # fmt: skip
        writer.flush(timeout=120.0)
        wall = time.perf_counter() - began
        influxd_cpu, own_cpu = cpu_seconds(influx.pid) - influxd_before, own_cpu_seconds() - own_before
        writer.close()
        store.close()
        split = f"physics {report.physics_s:.1f} s (worker), writes {report.write_s:.1f} s"
        return Half(wall, report.points, influxd_cpu, own_cpu, split, (load, os.getloadavg()[0]))
    finally:
        influx.stop()
        shutil.rmtree(base / "fleet", ignore_errors=True)


def against_raw(period_text: str, step_text: str, runs: int) -> int:
    """The backfill's point rate against influxd's raw write rate for the same points, same run.

    Halves alternate which goes first (the machine's load drifts). Besides wall time, the CPU seconds:
    influxd's in each half and the backfill's own (physics, points, encoding, HTTP client); the CPU
    ratio raw influxd / (backfill influxd + own) is the wall ratio a machine with no idle core would give.
    """
    from datetime import UTC, datetime

    from twins.durations import parse_duration

    period, step = parse_duration(period_text), parse_duration(step_text)
    base = Path(tempfile.mkdtemp(prefix="backfill-raw-"))
    end = datetime(2026, 12, 1, tzinfo=UTC)
    ratios, cpu_ratios, raws, fulls = [], [], [], []
    for i in range(runs):
        if i % 2 == 0:
            raw = raw_write_s(base, end, period, step)
            full = backfill_s(base, end, period, step)
        else:
            full = backfill_s(base, end, period, step)
            raw = raw_write_s(base, end, period, step)
        points = full.points
        assert points == raw.points, (points, raw.points)
        ratio = raw.wall / full.wall  # rate ratio: (points / full) / (points / raw)
        cpu_ratio = raw.influxd_cpu / (full.influxd_cpu + full.own_cpu)
        ratios.append(ratio)
        cpu_ratios.append(cpu_ratio)
        raws.append(raw.wall)
        fulls.append(full.wall)
        us = 1e6 / points
        print(f"run {i + 1}: {points} points; raw POSTs {raw.wall:.1f} s ({points / raw.wall:,.0f} points/s, "
              f"influxd CPU {raw.influxd_cpu * us:.1f} us/point, load {raw.load[0]:.1f}-{raw.load[1]:.1f}), "
              f"backfill {full.wall:.1f} s ({points / full.wall:,.0f} points/s; {full.split}; influxd CPU "
              f"{full.influxd_cpu * us:.1f} us/point, own CPU {full.own_cpu * us:.1f} us/point, load "
              f"{full.load[0]:.1f}-{full.load[1]:.1f}); ratio {ratio:.2f}, CPU ratio {cpu_ratio:.2f}",
              flush=True)  # fmt: skip
    ratio = statistics.median(ratios)
    print(f"median of {runs}: raw {statistics.median(raws):.1f} s, backfill {statistics.median(fulls):.1f} s, "
          f"ratio {ratio:.2f} ({'within' if ratio >= RAW_TARGET else 'BELOW'} the {RAW_TARGET} target), "
          f"CPU ratio {statistics.median(cpu_ratios):.2f}")  # fmt: skip
    shutil.rmtree(base, ignore_errors=True)
    return 0 if ratio >= RAW_TARGET else 1


def main() -> int:
    """Time the backfill into each store and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", default="365d")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-influx", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--compare-points", action="store_true", help="only compare the two ways to build points")
    parser.add_argument("--against-raw", action="store_true", help="backfill vs influxd's raw write rate")
    parser.add_argument("--step", default="60s", help="with --against-raw: the backfill's step")
    args = parser.parse_args()
    if args.against_raw:
        return against_raw(args.period, args.step, args.runs)
    if args.compare_points:
        compare_point_paths()
        return 0
    results: dict[str, list[float]] = {}
    base = Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    for i in range(0 if args.no_sqlite else args.runs):
        folder = base / f"sqlite-{i}"
        wall, line = one_run(f"sqlite:///{folder / 'series.db'}", args.period, folder)
        results.setdefault("sqlite", []).append(wall)
        print(f"sqlite run {i + 1}: {wall:.1f} s  {line}", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    if not args.no_influx and shutil.which("influxd"):
        for i in range(args.runs):
            influx = InfluxService(base / f"influx-{i}")
            influx.start()
            try:
                cpu_before = cpu_seconds(influx.pid)
                wall, line = one_run(influx.url, args.period, base / f"influx-spool-{i}")
                cpu = cpu_seconds(influx.pid) - cpu_before
                results.setdefault("influxd", []).append(wall)
                print(f"influxd run {i + 1}: {wall:.1f} s, influxd's own CPU {cpu:.1f} s  {line}", flush=True)
            finally:
                influx.stop()
                shutil.rmtree(base / f"influx-{i}", ignore_errors=True)
    print()
    missed = False
    for store, walls in results.items():
        median = statistics.median(walls)
        verdict = "within" if median < TARGET_S else "OVER"
        missed = missed or median >= TARGET_S
        print(f"{store}: --backfill {args.period} for 12 benches, median {median:.1f} s of {len(walls)} runs "
              f"({', '.join(f'{w:.1f}' for w in walls)}), {verdict} the {TARGET_S:.0f} s target")  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
