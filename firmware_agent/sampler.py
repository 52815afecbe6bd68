"""The sampler: reads the hardware on schedule and builds contract telemetry with a per-boot ``seq``."""

from __future__ import annotations

from datetime import datetime, timedelta

from twins.config import ShedLoad
from twins.messages import Telemetry, VoteCounts
from twins.shedding import ordered

from .hardware.base import Bench


class Sampler:
    """Decides when a sample is due and builds it; ``seq`` starts at 0 at every boot."""

    def __init__(self, bench_id: str, bench: Bench) -> None:
        self.bench_id = bench_id
        self.bench = bench
        self.seq = 0
        self._next_due: datetime | None = None
        self._last: datetime | None = None

    def due(self, now: datetime, interval_s: int) -> bool:
        """Whether a sample is due at ``now`` (the first tick always samples)."""
        if self._last is None:
            return True
        return now >= self._last + timedelta(seconds=interval_s)

    def sample(self, now: datetime, shed: frozenset[ShedLoad], votes: VoteCounts) -> Telemetry:
        """Read every device and return the next sample; raises HardwareError if a device fails."""
        telemetry = Telemetry(
            v=1,
            bench_id=self.bench_id,
            ts=now,
            seq=self.seq,
            battery=self.bench.battery.read_battery(),
            solar=self.bench.solar.read_solar(),
            load=self.bench.load.read_load(),
            ports=self.bench.ports.read_ports(),
            wifi=self.bench.wifi.read_wifi(),
            votes=votes,
            shed=ordered(shed),
        )
        self.seq += 1
        self._last = now
        return telemetry
