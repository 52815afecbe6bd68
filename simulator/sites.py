"""Where the simulated benches stand: the 12 seed benches, then ``sim-00001`` ... spread over their sites.

The seed benches are read from the project's seed CSV (``fleet/seed/benches.csv``) as *data*: the
simulator does not import fleet code (architecture rule), and the CSV is the single source of truth.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from importlib import resources

from twins.ids import require_bench_id

SEED_PACKAGE = "fleet.seed"
SEED_FILE = "benches.csv"
# Extra simulated benches stand within ~2 km of a seed bench and share its climate and sky.
_OFFSET_DEG = 0.02


@dataclass(frozen=True, slots=True)
class BenchSite:
    """One simulated bench: its id, municipality (for the climate) and coordinates."""

    bench_id: str
    municipality: str
    lat: float
    lon: float
    altitude_m: float
    home_id: str = ""
    """The seed bench whose sky (solar day) this bench shares; itself for a seed bench.

    Sharing keeps one pvlib run per seed site and day however many benches run, at the price of
    identical clouds for a site's extra benches (their usage differs: it is drawn per bench id)."""

    @property
    def sky_id(self) -> str:
        """The bench id whose coordinates drive the solar model."""
        return self.home_id or self.bench_id


def parse_sites(text: str, source: str = "CSV") -> list[BenchSite]:
    """Parse rows with the seed CSV's columns (bench_id, municipality, lat, lon, altitude_m)."""
    sites: list[BenchSite] = []
    for line_no, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            sites.append(
                BenchSite(
                    bench_id=require_bench_id(row["bench_id"].strip()),
                    municipality=row["municipality"].strip(),
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    altitude_m=float(row["altitude_m"] or 0.0),
                )
            )
        except (KeyError, ValueError, TypeError) as err:
            raise ValueError(f"{source} line {line_no}: {err}") from err
    return sites


def seed_sites() -> list[BenchSite]:
    """The 12 benches of the seed data."""
    text = resources.files(SEED_PACKAGE).joinpath(SEED_FILE).read_text(encoding="utf-8")
    return parse_sites(text, source=f"{SEED_PACKAGE}/{SEED_FILE}")


def sim_bench_id(n: int) -> str:
    """The id of the n-th extra simulated bench (1-based): ``sim-00001``."""
    return f"sim-{n:05d}"


def fleet_sites(count: int, seed: int, base: list[BenchSite] | None = None) -> list[BenchSite]:
    """``count`` benches: the seed benches first, then ``sim-NNNNN`` near them, round robin (reproducible)."""
    if count < 1:
        raise ValueError(f"--benches must be at least 1, got {count}")
    base = base if base is not None else seed_sites()
    sites = list(base[:count])
    rng = random.Random(f"sites:{seed}")
    for n in range(1, count - len(sites) + 1):
        home = base[(n - 1) % len(base)]
        sites.append(
            BenchSite(
                bench_id=sim_bench_id(n),
                municipality=home.municipality,
                lat=round(home.lat + rng.uniform(-_OFFSET_DEG, _OFFSET_DEG), 5),
                lon=round(home.lon + rng.uniform(-_OFFSET_DEG, _OFFSET_DEG), 5),
                altitude_m=home.altitude_m,
                home_id=home.bench_id,
            )
        )
    return sites
