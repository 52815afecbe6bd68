"""Bench registry entries and the CSV format of the seed data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from twins.ids import require_bench_id
from twins.twin import Attributes

CSV_COLUMNS = ("bench_id", "name", "municipality", "entity", "canton", "lat", "lon", "altitude_m", "installed")


@dataclass(frozen=True, slots=True)
class BenchRecord:
    """One registered bench."""

    bench_id: str
    attributes: Attributes


class RegistryCsvError(ValueError):
    """A registry CSV with a bad row; the message names the line and the column."""


def parse_csv(text: str, source: str = "CSV") -> list[BenchRecord]:
    """Parse rows with the columns of ``benches.csv``; raise RegistryCsvError naming line and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegistryCsvError(f"{source}: missing column(s) {', '.join(missing)}")
    records: list[BenchRecord] = []
    for line_no, row in enumerate(reader, start=2):
        try:
            bench_id = require_bench_id((row["bench_id"] or "").strip())
            attrs = Attributes(
                name=row["name"].strip() or bench_id,
                municipality=_required(row, "municipality"),
                entity=row["entity"].strip(),
                canton=row["canton"].strip(),
                lat=_number(row, "lat"),
                lon=_number(row, "lon"),
                altitude_m=_number(row, "altitude_m", default=0.0),
                installed=row["installed"].strip(),
            )
        except (ValueError, KeyError) as err:
            raise RegistryCsvError(f"{source} line {line_no}: {err}") from err
        records.append(BenchRecord(bench_id, attrs))
    return records


def _required(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise ValueError(f"column {column!r} is empty")
    return value


def _number(row: dict[str, str], column: str, default: float | None = None) -> float:
    text = (row.get(column) or "").strip()
    if not text and default is not None:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"column {column!r}: {text!r} is not a number") from None


def load_csv(path: Path) -> list[BenchRecord]:
    """Read a registry CSV file."""
    return parse_csv(path.read_text(encoding="utf-8"), source=str(path))


def default_fleet() -> list[BenchRecord]:
    """The 12 benches installed in November 2023 (the seed data)."""
    text = resources.files("fleet.seed").joinpath("benches.csv").read_text(encoding="utf-8")
    return parse_csv(text, source="seed benches.csv")


def to_csv(records: Iterable[BenchRecord]) -> str:
    """Write records back in the seed CSV format."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        a = r.attributes
        row = [r.bench_id, a.name, a.municipality, a.entity, a.canton, a.lat, a.lon, a.altitude_m, a.installed]
        writer.writerow(row)
    return out.getvalue()
