"""Time ``benchfleet simulate --backfill 365d`` for the 12 seed benches, into the SQLite TSDB and influxd.

    python benchmarks/backfill.py [--period 365d] [--runs 3] [--no-influx]

Each run writes into a fresh store (a new SQLite file; a fresh influxd database started from Debian's
package on a free port). Prints every run's wall time and the median, and the physics/write split.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.cli import run_simulate  # noqa: E402
from tests.services import InfluxService  # noqa: E402

TARGET_S = 60.0


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


def main() -> int:
    """Time the backfill into each store and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", default="365d")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-influx", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    base = Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    for i in range(args.runs):
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
                wall, line = one_run(influx.url, args.period, base / f"influx-spool-{i}")
                results.setdefault("influxd", []).append(wall)
                print(f"influxd run {i + 1}: {wall:.1f} s  {line}", flush=True)
            finally:
                influx.stop()
                shutil.rmtree(base / f"influx-{i}", ignore_errors=True)
    print()
    for store, walls in results.items():
        median = statistics.median(walls)
        verdict = "within" if median < TARGET_S else "OVER"
        print(f"{store}: --backfill {args.period} for 12 benches, median {median:.1f} s of {len(walls)} runs "
              f"({', '.join(f'{w:.1f}' for w in walls)}), {verdict} the {TARGET_S:.0f} s target")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
