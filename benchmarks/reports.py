"""Time one municipality-month report and the fleet report (all 12 municipalities) against the TSDB queries alone.

    python benchmarks/reports.py [--step 60] [--tsdb influx|sqlite] [--runs 3]

Sets up the 12 seed benches with 40 days of backfilled telemetry every ``--step`` seconds (their telemetry
interval), votes in PostgreSQL, then, in the same run, times: building the Mostar report for November 2026
(and rendering HTML and CSV), building the fleet report, and the same ``query_series`` calls the builds make,
issued directly (the floor the report cannot beat while it reads raw samples).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleet.reports.build import PORT_KINDS, ReportSources  # noqa: E402
from fleet.reports.output import make_report, render  # noqa: E402
from fleet.reports.period import parse_period  # noqa: E402
from fleet.state.twin_store import TwinStore  # noqa: E402
from tests.fleet.reports_kit import NOW, make_fleet  # noqa: E402
from tests.services import InfluxService, PostgresDatabase  # noqa: E402
from twins.series import SEQ_FIELD, TELEMETRY  # noqa: E402

PORT_FIELDS = tuple(f"ports.{k}.{f}" for k in PORT_KINDS for f in ("sessions_today", "power_w"))
FIELDS = (SEQ_FIELD, "wifi.sessions_today", "wifi.clients", "solar.energy_today_wh", *PORT_FIELDS)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall seconds of each run."""
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return out


def main() -> None:
    """Set up, time, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=int, default=60, help="telemetry interval of the history, seconds")
    parser.add_argument("--tsdb", choices=["influx", "sqlite"], default="influx")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    period = parse_period("2026-11")
    every = timedelta(seconds=args.step)
    with tempfile.TemporaryDirectory() as tmp:
        influx = None
        if args.tsdb == "influx":
            influx = InfluxService(Path(tmp) / "influx")
            influx.start()
        database = PostgresDatabase()
        database.create()
        try:
            began = time.perf_counter()
            from simulator.sites import seed_sites

            all_benches = [s.bench_id for s in seed_sites()]
            fleet = make_fleet(database.url, Path(tmp), benches=all_benches, step=every,
                               tsdb_url=influx.url if influx else None, keep_points=False)  # fmt: skip
            print(
                f"setup: 12 benches, 40 days every {args.step} s into {args.tsdb}: {time.perf_counter() - began:.1f} s"
            )
            sources = ReportSources(fleet.engine, fleet.tsdb, TwinStore(fleet.engine).list_twins())
            twins = sources.twins

            def queries(bench_ids: list[str]) -> None:
                for bench_id in bench_ids:
                    for field in FIELDS:
                        fleet.tsdb.query_series(
                            TELEMETRY, field, {"bench_id": bench_id}, period.start, period.end, every
                        )

            mostar = [t.bench_id for t in twins if t.attributes.municipality == "Mostar"]
            rows = {
                "Mostar: TSDB queries alone": timed(lambda: queries(mostar), args.runs),
                "Mostar: report built": timed(lambda: make_report(sources, "Mostar", period, NOW), args.runs),
                "Mostar: built + HTML + CSV": timed(
                    lambda: [
                        render(r, f) for r in [make_report(sources, "Mostar", period, NOW)] for f in ("html", "csv")
                    ],
                    args.runs,
                ),
                "fleet: TSDB queries alone": timed(lambda: queries([t.bench_id for t in twins]), args.runs),
                "fleet: report built": timed(lambda: make_report(sources, None, period, NOW), args.runs),
            }
            for name, runs in rows.items():
                print(
                    f"{name:32s} median {statistics.median(runs):7.2f} s   runs {', '.join(f'{r:.2f}' for r in runs)}"
                )
            fleet.tsdb.close()
            fleet.engine.dispose()
        finally:
            database.drop()
            if influx:
                influx.stop()


if __name__ == "__main__":
    main()
