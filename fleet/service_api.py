"""The read/write surface the dashboards and CLI use; one implementation lives in fleet.service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from fleet.events import Listener
from twins.config import PollOption
from twins.series import SeriesSample
from twins.twin import Twin

if TYPE_CHECKING:  # fleet.ops imports Scope's module users; the types are only needed for checking
    from fleet.ops.audit import AuditEntry, AuditQuery
    from fleet.ops.commands import CommandRecord
    from fleet.state.vote_review import Decision, SuspectGroup


@dataclass(frozen=True, slots=True)
class Scope:
    """What a caller may see: every bench (``municipalities is None``) or only some municipalities."""

    municipalities: frozenset[str] | None = None

    def allows(self, municipality: str) -> bool:
        """Tell whether a bench of ``municipality`` is visible."""
        return self.municipalities is None or municipality in self.municipalities


EVERYTHING = Scope()


@dataclass(frozen=True, slots=True)
class PollResults:
    """Tallies of one poll: total, per bench and per municipality."""

    poll_id: str
    total: dict[str, int]
    by_bench: dict[str, dict[str, int]]
    by_municipality: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class PollInfo:
    """A poll as configured on benches (question and options in every language)."""

    poll_id: str
    question: Mapping[str, str]
    options: Sequence[PollOption]
    opens: datetime
    closes: datetime
    bench_ids: tuple[str, ...] = field(default_factory=tuple)
    municipalities: tuple[str, ...] = field(default_factory=tuple)


class FleetApi(Protocol):
    """Everything the dashboards need from the fleet."""

    def now(self) -> datetime:
        """Current time from the fleet's clock."""
        ...

    def list_twins(self, scope: Scope) -> list[Twin]:
        """Every twin within ``scope``, ordered by bench id."""
        ...

    def get_twin(self, bench_id: str) -> Twin | None:
        """One twin, or None if the bench is unknown."""
        ...

    def patch_desired(self, bench_id: str, patch: Mapping[str, Any], if_match: int | None, actor: str) -> Twin:
        """Merge-patch a bench's desired config and publish it (retained); raises KeyError for an unknown
        bench, twins.twin.VersionConflict on a stale If-Match, twins.twin.InvalidConfig on a bad config."""
        ...

    def send_command(self, bench_id: str, name: str, args: Mapping[str, Any], actor: str) -> CommandRecord:
        """Record, audit and publish a command; KeyError for an unknown bench, fleet.ops.commands.CommandRefused
        for a name or args the bench would not take."""
        ...

    def get_command(self, command_id: str) -> CommandRecord | None:
        """One command and how it went, or None."""
        ...

    def recent_commands(self, bench_id: str, limit: int = 20) -> list[CommandRecord]:
        """A bench's latest commands, newest first."""
        ...

    def audit_entries(self, query: AuditQuery, scope: Scope) -> list[AuditEntry]:
        """Audit log entries matching ``query`` within ``scope``, newest first."""
        ...

    def series(
        self, bench_id: str, field_name: str, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        """A downsampled series (mean per bucket) of an API field such as ``battery.soc_pct``;
        raises KeyError for an unknown field name."""
        ...

    def polls(self, scope: Scope) -> list[PollInfo]:
        """Polls configured on the benches within ``scope``."""
        ...

    def poll_results(self, poll_id: str, scope: Scope) -> PollResults:
        """Counted votes of one poll within ``scope``."""
        ...

    def turnout(
        self, poll_id: str, scope: Scope, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        """Counted votes of a poll per ``every`` bucket over [start, end) within ``scope``."""
        ...

    def claim_polls(self, poll_ids: Sequence[str], claimer: str | None, actor: str) -> dict[str, str | None]:
        """Claim unclaimed poll ids for ``claimer`` (a municipality, None: the fleet); every id's owner after."""
        ...

    def suspect_votes(self, scope: Scope) -> list[SuspectGroup]:
        """Votes held for review (implausible rate) per bench and poll within ``scope``."""
        ...

    def review_suspect(self, bench_id: str, poll_id: str, decision: Decision, actor: str) -> int:
        """Count (accept) or discard (reject) a bench's held votes for a poll; how many moved."""
        ...

    def health_report(self) -> dict[str, Any]:
        """State of broker, TSDB and database connections (for /healthz)."""
        ...

    def metrics_text(self) -> str:
        """Prometheus text exposition of the ingestion counters."""
        ...

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` for every fleet event (from the ingestion thread: hand off quickly)."""
        ...
