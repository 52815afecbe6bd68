"""The firmware inventory of the fleet: which version runs where, from the twins' reported firmware."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twins.twin import Twin

#: The version shown for a bench that has not reported yet.
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FirmwareRow:
    """One bench's reported firmware and hardware model."""

    bench_id: str
    municipality: str
    version: str
    previous: str | None
    model: str | None

    def as_json(self) -> dict[str, Any]:
        """The API form."""
        return {
            "bench_id": self.bench_id,
            "municipality": self.municipality,
            "version": self.version,
            "previous": self.previous,
            "model": self.model,
        }


def inventory(twins: Iterable[Twin]) -> list[FirmwareRow]:
    """One row per twin, ordered by bench id."""
    rows = []
    for twin in twins:
        reported = twin.reported
        rows.append(
            FirmwareRow(
                twin.bench_id,
                twin.attributes.municipality,
                reported.firmware.version if reported else UNKNOWN,
                reported.firmware.previous if reported else None,
                reported.hardware.model if reported else None,
            )
        )
    return sorted(rows, key=lambda r: r.bench_id)


def by_version(rows: Iterable[FirmwareRow]) -> dict[str, list[str]]:
    """Bench ids per version, versions in sorted order."""
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.version, []).append(row.bench_id)
    return {v: out[v] for v in sorted(out)}
