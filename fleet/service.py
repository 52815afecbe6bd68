"""FleetService: the FleetApi over the twin repository, the SQL and time-series stores and the publisher."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet.db.store import SqlStore
from fleet.event_bus import EventBus
from fleet.events import ConfigStatusChanged, Listener, TwinChanged
from fleet.ingest.metrics import IngestMetrics
from fleet.ops.audit import AuditEntry, AuditLog, AuditQuery
from fleet.ops.commands import CommandRecord, CommandService
from fleet.ops.rollouts import RolloutService
from fleet.service_api import PollInfo, PollResults, Scope
from fleet.state.cache import TwinCache
from fleet.state.desired import DesiredPublication, DesiredVersions
from fleet.state.poll_owners import claim_polls
from fleet.state.twin_store import TwinStore
from fleet.state.vote_review import Decision, SuspectGroup, list_suspect, review_suspect
from fleet.tsdb.base import TimeSeriesStore
from twins.clock import Clock
from twins.series import SERIES_FIELDS, SeriesSample
from twins.twin import Twin


class FleetService:
    """The one implementation of fleet.service_api.FleetApi: reads single twins from SQL, the fleet list
    from the process's TwinCache, and allocates desired versions in the database."""

    def __init__(
        self,
        twins: TwinStore,
        cache: TwinCache,
        store: SqlStore,
        tsdb: TimeSeriesStore,
        publication: DesiredPublication,
        metrics: IngestMetrics,
        bus: EventBus,
        clock: Clock,
        probes: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
        *,
        audit: AuditLog | None = None,
        commands: CommandService | None = None,
    ) -> None:
        self._twins = twins
        self._cache = cache
        self._desired = DesiredVersions(twins)
        self._store = store
        self._tsdb = tsdb
        self._publication = publication
        self._metrics = metrics
        self._bus = bus
        self._clock = clock
        self._probes = dict(probes or {})
        self._audit = audit
        self._commands = commands
        # Wired by the runtime after construction (the rollouts patch through this service).
        self.rollouts: RolloutService | None = None

    def now(self) -> datetime:
        """Current time from the fleet's clock."""
        return self._clock.now()

    def list_twins(self, scope: Scope) -> list[Twin]:
        """Every twin within ``scope``, ordered by bench id (from the cache that events keep fresh)."""
        return [t for t in self._cache.all() if scope.allows(t.attributes.municipality)]

    def get_twin(self, bench_id: str) -> Twin | None:
        """One twin as committed in SQL, or None."""
        return self._twins.get_twin(bench_id)

    def patch_desired(self, bench_id: str, patch: Mapping[str, Any], if_match: int | None, actor: str) -> Twin:
        """Merge-patch the desired config as the next database-allocated version, publish the newest
        committed one retained (under the bench's lock), and announce ``pending``."""
        now = self._clock.now()
        twin = self._desired.patch(bench_id, patch, if_match, actor, now)
        self._publication.publish_latest(bench_id, now)
        # Audited after the commit and the publication (a failing audit write must not keep a committed config
        # from its bench); desired_history keeps both versions, so the entry is exact whenever it is written.
        if self._audit is not None:
            self._audit.record_desired(bench_id, twin.desired_version, actor)
        self._bus.publish(TwinChanged(twin, "desired"))
        self._bus.publish(
            ConfigStatusChanged(bench_id, twin.attributes.municipality, twin.desired_version, "pending", None, now)
        )
        return twin

    def send_command(self, bench_id: str, name: str, args: Mapping[str, Any], actor: str) -> CommandRecord:
        """Record, audit and publish a command (fleet.ops.commands)."""
        if self._commands is None:
            raise RuntimeError("commands are not wired in this process")
        return self._commands.send(bench_id, name, args, actor)

    def get_command(self, command_id: str) -> CommandRecord | None:
        """One command and how it went, or None."""
        return self._commands.get(command_id) if self._commands is not None else None

    def recent_commands(self, bench_id: str, limit: int = 20) -> list[CommandRecord]:
        """A bench's latest commands, newest first."""
        return self._commands.recent(bench_id, limit) if self._commands is not None else []

    def audit_entries(self, query: AuditQuery, scope: Scope) -> list[AuditEntry]:
        """Audit entries matching ``query`` within ``scope``, newest first."""
        return self._audit.entries(query, scope.municipalities) if self._audit is not None else []

    def series(
        self, bench_id: str, field_name: str, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        """Mean per bucket of an API field (``battery.soc_pct``...); KeyError for an unknown field."""
        measurement, field = SERIES_FIELDS[field_name]
        return self._tsdb.query_series(measurement, field, {"bench_id": bench_id}, start, end, every)

    def polls(self, scope: Scope) -> list[PollInfo]:
        """Polls configured in the desired config of visible benches, merged by poll id."""
        found: dict[str, tuple[Any, list[str], set[str]]] = {}
        for twin in self.list_twins(scope):
            for poll in twin.desired.polls:
                held = found.setdefault(poll.id, (poll, [], set()))
                held[1].append(twin.bench_id)
                held[2].add(twin.attributes.municipality)
        return [
            PollInfo(
                poll_id=pid,
                question=dict(poll.question),
                options=tuple(poll.options),
                opens=poll.opens,
                closes=poll.closes,
                bench_ids=tuple(benches),
                municipalities=tuple(sorted(munis)),
            )
            for pid, (poll, benches, munis) in sorted(found.items())
        ]

    def poll_results(self, poll_id: str, scope: Scope) -> PollResults:
        """Counted votes per option, bench and municipality."""
        total: dict[str, int] = {}
        by_bench: dict[str, dict[str, int]] = {}
        by_muni: dict[str, dict[str, int]] = {}
        for row in self._store.tally(poll_id, scope.municipalities):
            total[row.option] = total.get(row.option, 0) + row.votes
            by_bench.setdefault(row.bench_id, {})[row.option] = row.votes
            muni = by_muni.setdefault(row.municipality, {})
            muni[row.option] = muni.get(row.option, 0) + row.votes
        return PollResults(poll_id, total, by_bench, by_muni)

    def turnout(
        self, poll_id: str, scope: Scope, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        """Counted votes per bucket (buckets aligned to the epoch like the TSDB's), from the vote table:
        the same exactly-once counts as the tallies, not the TSDB's turnout points."""
        step = every.total_seconds()
        if step <= 0:
            raise ValueError("every must be positive")
        first = int(start.timestamp() // step)
        last = int((end.timestamp() - 1e-6) // step)
        if last - first > 100_000:
            raise ValueError("too many buckets: choose a larger every")
        counts = [0] * max(0, last - first + 1)
        for ts in self._store.vote_times(poll_id, start, end, scope.municipalities):
            counts[int(ts.timestamp() // step) - first] += 1
        return [SeriesSample(datetime.fromtimestamp((first + i) * step, UTC), float(n)) for i, n in enumerate(counts)]

    def claim_polls(self, poll_ids: Sequence[str], claimer: str | None, actor: str) -> dict[str, str | None]:
        """Claim unclaimed poll ids for ``claimer`` (a municipality, None: the fleet); every id's owner after."""
        return claim_polls(self._twins.engine, poll_ids, claimer, actor, self._clock.now())

    def suspect_votes(self, scope: Scope) -> list[SuspectGroup]:
        """Votes held for review (implausible rate) per bench and poll within ``scope``."""
        return list_suspect(self._twins.engine, scope.municipalities)

    def review_suspect(self, bench_id: str, poll_id: str, decision: Decision, actor: str) -> int:
        """Count (accept) or discard (reject) a bench's held votes for a poll (audit-logged); how many moved.
        The twin's new tallies and health go out as a TwinChanged (the fleet list and pages follow)."""
        moved = review_suspect(self._twins.engine, bench_id, poll_id, decision, self._audit, actor)
        twin = self._twins.get_twin(bench_id)
        if moved and twin is not None:
            self._bus.publish(TwinChanged(twin, "votes"))
        return moved

    def health_report(self) -> dict[str, Any]:
        """State of every connection; ``status`` is ``ok`` only when all are up."""
        report: dict[str, Any] = {name: probe() for name, probe in self._probes.items()}
        report["status"] = "ok" if all(part.get("ok") for part in report.values()) else "degraded"
        return report

    def metrics_text(self) -> str:
        """Prometheus text exposition."""
        return self._metrics.render().decode()

    def subscribe(self, listener: Listener) -> None:
        """Receive every fleet event."""
        self._bus.subscribe(listener)
