"""Sites of the default fleet (from the project's seed CSV) for the physics tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from simulator.physics.climate import SiteClimate, climate_for
from simulator.physics.solar import Site

SEED_CSV = Path(__file__).resolve().parents[2] / "fleet" / "seed" / "benches.csv"


@dataclass(frozen=True)
class SeedBench:
    """One bench of the seed CSV with its site and climate."""

    bench_id: str
    site: Site
    climate: SiteClimate


def seed_benches() -> list[SeedBench]:
    """The twelve benches of the default fleet."""
    with SEED_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        SeedBench(
            row["bench_id"],
            Site(row["municipality"], float(row["lat"]), float(row["lon"]), float(row["altitude_m"])),
            climate_for(row["municipality"]),
        )
        for row in rows
    ]


def seed_bench(bench_id: str) -> SeedBench:
    """One bench of the default fleet by id."""
    return next(b for b in seed_benches() if b.bench_id == bench_id)
