"""Bench registry entries and the CSV format of the seed data."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from twins.ids import BENCH_ID_PATTERN, is_bench_id
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
    first_line: dict[str, int] = {}
    for row in reader:
        # line_num, not a row counter: blank lines and quoted newlines make the two differ.
        line_no = reader.line_num
        try:
            bench_id = _text(row, "bench_id")
            if not is_bench_id(bench_id):
                raise ValueError(f"column 'bench_id': {bench_id!r} is not a bench id (must match {BENCH_ID_PATTERN})")
            if bench_id in first_line:
                raise ValueError(f"column 'bench_id': {bench_id!r} already on line {first_line[bench_id]}")
            attrs = Attributes(
                name=_text(row, "name") or bench_id,
                municipality=_required(row, "municipality"),
                entity=_text(row, "entity"),
                canton=_text(row, "canton"),
                lat=_number(row, "lat"),
                lon=_number(row, "lon"),
                altitude_m=_number(row, "altitude_m", default=0.0),
                installed=_text(row, "installed"),
            )
        except ValidationError as err:
            item = err.errors(include_url=False)[0]
            column = ".".join(str(p) for p in item["loc"])
            raise RegistryCsvError(f"{source} line {line_no}: column {column!r}: {item['msg']}") from err
        except ValueError as err:
            raise RegistryCsvError(f"{source} line {line_no}: {err}") from err
        first_line[bench_id] = line_no
        records.append(BenchRecord(bench_id, attrs))
    return records


def _text(row: dict[str, str | None], column: str) -> str:
    # A short row leaves the missing columns None in csv.DictReader.
    return (row.get(column) or "").strip()


def _required(row: dict[str, str | None], column: str) -> str:
    value = _text(row, column)
    if not value:
        raise ValueError(f"column {column!r} is empty")
    return value


def _number(row: dict[str, str | None], column: str, default: float | None = None) -> float:
    text = _text(row, column)
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
