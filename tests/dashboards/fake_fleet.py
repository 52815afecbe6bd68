"""An in-memory FleetApi for dashboard tests (a test double: the real one is fleet.service)."""

from __future__ import annotations

import csv
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fleet.events import ConfigStatusChanged, FleetEvent, Listener, TwinChanged, VoteCounted
from fleet.service_api import PollInfo, PollResults, Scope
from fleet.state.poll_owners import adopted_owner
from fleet.state.vote_review import Decision, SuspectGroup
from twins.clock import ManualClock
from twins.messages import ConfigReport, FirmwareInfo, HardwareInfo, Reported, Telemetry
from twins.metrics import METRICS
from twins.series import SeriesSample
from twins.twin import Attributes, Twin, apply_reported, apply_telemetry, count_vote, new_twin, patch_desired

SEED = Path(__file__).resolve().parents[2] / "fleet" / "seed" / "benches.csv"


def seed_twins() -> list[Twin]:
    """The 12 default benches as fresh twins."""
    with SEED.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        new_twin(
            r["bench_id"],
            Attributes(
                name=r["name"],
                municipality=r["municipality"],
                entity=r["entity"],
                canton=r["canton"],
                lat=float(r["lat"]),
                lon=float(r["lon"]),
                altitude_m=float(r["altitude_m"]),
                installed=r["installed"],
            ),
        )
        for r in rows
    ]


def telemetry(bench_id: str, ts: datetime, seq: int, soc: float = 80.0, load: float = 12.0, **votes: Any) -> Telemetry:
    """A valid telemetry sample."""
    return Telemetry.model_validate(
        {
            "v": 1,
            "bench_id": bench_id,
            "ts": ts,
            "seq": seq,
            "battery": {"soc_pct": soc, "voltage_v": 13.1, "current_a": 1.0, "temp_c": 21.5},
            "solar": {"power_w": 88.0, "energy_today_wh": 410.0},
            "load": {"power_w": load},
            "ports": [{"id": "usb-1", "kind": "usb", "active": True, "power_w": 7.5, "sessions_today": 14}],
            "wifi": {"clients": 7, "sessions_today": 53},
            "votes": votes.get("votes", {}),
        },
        strict=False,
    )


class FakeFleet:
    """Twins in a dict, series in lists, events delivered synchronously to listeners."""

    def __init__(self, clock: ManualClock, twins: list[Twin] | None = None) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.twins: dict[str, Twin] = {t.bench_id: t for t in (twins if twins is not None else seed_twins())}
        self.samples: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
        self.votes: list[tuple[datetime, str, str, str]] = []  # (ts, bench, poll, option)
        self.listeners: list[Listener] = []
        self.patches: list[tuple[str, Mapping[str, Any], str]] = []
        self.owners: dict[str, str | None] = {}  # the polls table
        self.suspect: dict[tuple[str, str], list[str]] = {}  # (bench, poll) -> options of held votes
        self.reviews: list[tuple[str, str, str, str, int]] = []  # (bench, poll, decision, actor, moved)

    # -- FleetApi ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def list_twins(self, scope: Scope) -> list[Twin]:
        with self._lock:
            return [t for _, t in sorted(self.twins.items()) if scope.allows(t.attributes.municipality)]

    def get_twin(self, bench_id: str) -> Twin | None:
        return self.twins.get(bench_id)

    def patch_desired(self, bench_id: str, patch: Mapping[str, Any], if_match: int | None, actor: str) -> Twin:
        with self._lock:
            twin = self.twins[bench_id]
            updated = patch_desired(twin, dict(patch), self.now(), if_match)
            self.twins[bench_id] = updated
            self.patches.append((bench_id, patch, actor))
        self._emit(TwinChanged(updated, "desired"))
        self._emit(
            ConfigStatusChanged(
                bench_id, twin.attributes.municipality, updated.desired_version, "pending", None, self.now()
            )
        )
        return updated

    def series(
        self, bench_id: str, field_name: str, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        from twins.series import SERIES_FIELDS

        if field_name not in SERIES_FIELDS:
            raise KeyError(field_name)
        points = self.samples.get((bench_id, field_name), [])
        out: list[SeriesSample] = []
        t = start
        while t < end:
            values = [v for ts, v in points if t <= ts < t + every]
            out.append(SeriesSample(t, sum(values) / len(values) if values else None))
            t += every
        return out

    def polls(self, scope: Scope) -> list[PollInfo]:
        found: dict[str, PollInfo] = {}
        for twin in self.list_twins(scope):
            for poll in twin.desired.polls:
                prev = found.get(poll.id)
                found[poll.id] = PollInfo(
                    poll.id,
                    dict(poll.question),
                    tuple(poll.options),
                    poll.opens,
                    poll.closes,
                    (prev.bench_ids if prev else ()) + (twin.bench_id,),
                    tuple(sorted({*(prev.municipalities if prev else ()), twin.attributes.municipality})),
                )
        return [found[k] for k in sorted(found)]

    def poll_results(self, poll_id: str, scope: Scope) -> PollResults:
        total: dict[str, int] = {}
        by_bench: dict[str, dict[str, int]] = {}
        by_muni: dict[str, dict[str, int]] = {}
        for twin in self.list_twins(scope):
            tally = twin.counted_votes.get(poll_id)
            if not tally:
                continue
            by_bench[twin.bench_id] = dict(tally)
            muni = by_muni.setdefault(twin.attributes.municipality, {})
            for option, n in tally.items():
                total[option] = total.get(option, 0) + n
                muni[option] = muni.get(option, 0) + n
        return PollResults(poll_id, total, by_bench, by_muni)

    def turnout(
        self, poll_id: str, scope: Scope, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        out: list[SeriesSample] = []
        t = start
        while t < end:
            n = sum(
                1
                for ts, bench, poll, _ in self.votes
                if poll == poll_id and t <= ts < t + every and scope.allows(self.twins[bench].attributes.municipality)
            )
            out.append(SeriesSample(t, float(n)))
            t += every
        return out

    def health_report(self) -> dict[str, Any]:
        return {"broker": {"ok": True}, "tsdb": {"ok": True}, "database": {"ok": True}}

    def metrics_text(self) -> str:
        return "# TYPE benchfleet_messages_in_total counter\nbenchfleet_messages_in_total 0\n"

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def claim_polls(self, poll_ids: Sequence[str], claimer: str | None, actor: str) -> dict[str, str | None]:
        with self._lock:
            for poll_id in poll_ids:
                if poll_id not in self.owners:
                    users = {
                        t.attributes.municipality
                        for t in self.twins.values()
                        if poll_id in t.counted_votes or any(p.id == poll_id for p in t.desired.polls)
                    }
                    self.owners[poll_id] = adopted_owner(users, claimer)
            return {p: self.owners[p] for p in poll_ids}

    def suspect_votes(self, scope: Scope) -> list[SuspectGroup]:
        now = self.now()
        return [
            SuspectGroup(b, self.twins[b].attributes.municipality, p, len(options), now, now)
            for (b, p), options in sorted(self.suspect.items())
            if options and scope.allows(self.twins[b].attributes.municipality)
        ]

    def review_suspect(self, bench_id: str, poll_id: str, decision: Decision, actor: str) -> int:
        options = self.suspect.pop((bench_id, poll_id), [])
        if decision == "accept":
            for option in options:
                self.vote(bench_id, poll_id, option)
        self.reviews.append((bench_id, poll_id, decision, actor, len(options)))
        return len(options)

    # -- what the tests drive ----------------------------------------------------------------------
    def _emit(self, event: FleetEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    def ingest_telemetry(self, sample: Telemetry) -> Twin:
        """Take a sample as ingestion would: twin, series points, event."""
        with self._lock:
            twin, _ = apply_telemetry(self.twins[sample.bench_id], sample, self.now())
            self.twins[sample.bench_id] = twin
            for metric in METRICS:  # what telemetry_points would store, by series API field
                value = metric.value_fn(sample)
                if value is not None:
                    self.samples.setdefault((sample.bench_id, metric.key), []).append((sample.ts, float(value)))
        self._emit(TwinChanged(twin, "telemetry"))
        return twin

    def report_config(self, bench_id: str, version: int, status: str = "applied", error: str | None = None) -> Twin:
        """The bench answers a desired version."""
        with self._lock:
            twin = self.twins[bench_id]
            doc = Reported(
                v=1,
                bench_id=bench_id,
                ts=self.now(),
                firmware=FirmwareInfo(version="1.2.0"),
                hardware=HardwareInfo(model="sb-1", driver="sim", panel_wp=200.0),
                config=ConfigReport(version=version, status=status, error=error),  # type: ignore[arg-type]
                applied_config=twin.desired if status == "applied" else None,
            )
            twin, _ = apply_reported(twin, doc, self.now())
            self.twins[bench_id] = twin
        self._emit(TwinChanged(twin, "reported"))
        self._emit(
            ConfigStatusChanged(bench_id, twin.attributes.municipality, version, twin.config_state(), error, self.now())
        )
        return twin

    def vote(self, bench_id: str, poll_id: str, option: str) -> None:
        """Count one vote event."""
        with self._lock:
            twin = count_vote(self.twins[bench_id], poll_id, option, self.now())
            self.twins[bench_id] = twin
            self.votes.append((self.now(), bench_id, poll_id, option))
        self._emit(VoteCounted(bench_id, twin.attributes.municipality, poll_id, option, self.now()))
        self._emit(TwinChanged(twin, "votes"))
