"""The digital twin of one bench and the pure functions that move it forward."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twins.codec import describe_errors
from twins.config import DEFAULT_CONFIG_DOC, BenchConfig
from twins.health import Health, HealthThresholds, evaluate
from twins.ids import BenchId
from twins.merge_patch import delta, merge_patch
from twins.messages import Reported, Status, Telemetry, VoteCounts
from twins.timefmt import UtcDatetime

ConfigState = Literal["pending", "applied", "rejected", "unknown"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Attributes(_Frozen):
    """What does not change by itself: where the bench is and who owns it."""

    name: str = Field(min_length=1, max_length=200)
    municipality: str = Field(min_length=1, max_length=100)
    entity: str = Field(default="", max_length=20)
    canton: str = Field(default="", max_length=100)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float = 0.0
    installed: str = Field(default="", max_length=20)


class SectionMeta(_Frozen):
    """Version (bumped on every accepted change) and when the section last changed."""

    version: int = 0
    last_updated: UtcDatetime | None = None

    def bump(self, at: datetime) -> SectionMeta:
        """The next version, stamped ``at``."""
        return SectionMeta(version=self.version + 1, last_updated=at)


class Connectivity(_Frozen):
    """Online state from the status topic (or last will), kept apart from activity."""

    online: bool | None = None
    reason: str | None = None
    status_ts: UtcDatetime | None = None
    last_seen: UtcDatetime | None = Field(default=None, description="server time of the last message")


class Twin(_Frozen):
    """Everything the fleet knows about one bench."""

    bench_id: BenchId
    attributes: Attributes
    telemetry: Telemetry | None = None
    reported: Reported | None = None
    desired: BenchConfig
    desired_version: int = 0
    connectivity: Connectivity = Connectivity()
    counted_votes: VoteCounts = Field(default_factory=dict)
    votes_mismatch_since: UtcDatetime | None = None
    votes_suspect: int = Field(default=0, ge=0, description="votes held for review (implausible rate)")
    telemetry_meta: SectionMeta = SectionMeta()
    reported_meta: SectionMeta = SectionMeta()
    desired_meta: SectionMeta = SectionMeta()
    connectivity_meta: SectionMeta = SectionMeta()

    def expected_interval_s(self) -> int:
        """How often the bench should report, from its desired config."""
        return self.desired.telemetry_interval_s

    def delta(self) -> dict[str, Any]:
        """Desired keys that differ from the configuration the bench reports as applied."""
        applied = self.reported.applied_config if self.reported else None
        return delta(
            self.desired.model_dump(mode="json"),
            applied.model_dump(mode="json") if applied else None,
        )

    def config_state(self) -> ConfigState:
        """Where the latest desired version stands on the bench."""
        return config_state_of(self.desired_version, self.reported)

    def health(self, now: datetime, thresholds: HealthThresholds | None = None) -> Health:
        """Derived health at ``now``."""
        return evaluate(self, now, thresholds)

    def versions(self) -> dict[str, int]:
        """Per-section versions."""
        return {
            "telemetry": self.telemetry_meta.version,
            "reported": self.reported_meta.version,
            "desired": self.desired_meta.version,
            "connectivity": self.connectivity_meta.version,
        }


def config_state_of(desired_version: int, reported: Reported | None) -> ConfigState:
    """Where desired version ``desired_version`` stands on a bench that reported ``reported``."""
    report = reported.config if reported else None
    if desired_version == 0:
        return "applied" if report is None else report.status
    if report is None or report.version < desired_version:
        return "pending"
    return report.status


def new_twin(bench_id: str, attributes: Attributes, config: BenchConfig | None = None) -> Twin:
    """A twin for a bench that has not spoken yet, with the default desired config."""
    return Twin(bench_id=bench_id, attributes=attributes, desired=config or default_config())


def default_config() -> BenchConfig:
    """The default desired configuration."""
    return BenchConfig.model_validate_json(json.dumps(DEFAULT_CONFIG_DOC))


def _seen(twin: Twin, received_at: datetime) -> Connectivity:
    last = twin.connectivity.last_seen
    if last is not None and last >= received_at:
        return twin.connectivity
    return twin.connectivity.model_copy(update={"last_seen": received_at})


def _is_newer(candidate: Telemetry, current: Telemetry | None) -> bool:
    # ts first: seq restarts at every boot; seq breaks ties within one second.
    return current is None or (candidate.ts, candidate.seq) > (current.ts, current.seq)


def votes_mismatch(bench_votes: VoteCounts | None, counted: VoteCounts) -> bool:
    """Tell whether the bench's own vote counts disagree with the votes counted by the fleet."""
    return bench_votes is not None and _normalise(bench_votes) != _normalise(counted)


def _mismatch_since(
    bench_votes: VoteCounts | None, counted: VoteCounts, prev: datetime | None, now: datetime
) -> datetime | None:
    if not votes_mismatch(bench_votes, counted):
        return None
    return prev or now


def _normalise(votes: VoteCounts) -> dict[tuple[str, str], int]:
    return {(p, o): n for p, opts in votes.items() for o, n in opts.items() if n}


def apply_telemetry(twin: Twin, sample: Telemetry, received_at: datetime) -> tuple[Twin, bool]:
    """Take a sample; an older one (by ts, then seq) only counts as activity. Returns (twin, changed)."""
    connectivity = _seen(twin, received_at)
    if not _is_newer(sample, twin.telemetry):
        return twin.model_copy(update={"connectivity": connectivity}), False
    since = _mismatch_since(sample.votes, twin.counted_votes, twin.votes_mismatch_since, received_at)
    return (
        twin.model_copy(
            update={
                "telemetry": sample,
                "telemetry_meta": twin.telemetry_meta.bump(sample.ts),
                "connectivity": connectivity,
                "votes_mismatch_since": since,
            }
        ),
        True,
    )


def apply_reported(twin: Twin, doc: Reported, received_at: datetime) -> tuple[Twin, bool]:
    """Take the bench's reported document unless it is older than the one held."""
    connectivity = _seen(twin, received_at)
    # Older, or the very document held (a retained redelivery on every reconnect): no new version.
    if twin.reported is not None and (doc.ts < twin.reported.ts or doc == twin.reported):
        return twin.model_copy(update={"connectivity": connectivity}), False
    return (
        twin.model_copy(
            update={"reported": doc, "reported_meta": twin.reported_meta.bump(doc.ts), "connectivity": connectivity}
        ),
        True,
    )


def apply_status(twin: Twin, status: Status, received_at: datetime) -> tuple[Twin, bool]:
    """Take an online/offline status; an older one than held is ignored (a stale retained last will)."""
    held = twin.connectivity.status_ts
    if held is not None and status.ts < held:
        return twin, False
    connectivity = twin.connectivity.model_copy(
        update={"online": status.online, "reason": status.reason, "status_ts": status.ts}
    )
    if status.online:
        connectivity = _seen(twin.model_copy(update={"connectivity": connectivity}), received_at)
    changed = connectivity != twin.connectivity
    meta = twin.connectivity_meta.bump(status.ts) if changed else twin.connectivity_meta
    return twin.model_copy(update={"connectivity": connectivity, "connectivity_meta": meta}), changed


def apply_activity(twin: Twin, received_at: datetime) -> Twin:
    """Any other message from the bench (an event) proves it is alive."""
    return twin.model_copy(update={"connectivity": _seen(twin, received_at)})


def count_vote(twin: Twin, poll_id: str, option: str, at: datetime) -> Twin:
    """Add one counted vote event (already de-duplicated by the caller) and re-check reconciliation."""
    counted = {p: dict(opts) for p, opts in twin.counted_votes.items()}
    options = counted.setdefault(poll_id, {})
    options[option] = options.get(option, 0) + 1
    bench_votes = twin.telemetry.votes if twin.telemetry else None
    since = _mismatch_since(bench_votes, counted, twin.votes_mismatch_since, at)
    return twin.model_copy(update={"counted_votes": counted, "votes_mismatch_since": since})


class VersionConflict(Exception):
    """``If-Match`` named a desired version that is no longer current."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"desired version is {current}, not {expected}")
        self.expected = expected
        self.current = current


class InvalidConfig(Exception):
    """A desired config that fails validation; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate_config(doc: Any) -> BenchConfig:
    """Validate a config document (JSON-like); raise InvalidConfig naming each bad field."""
    try:
        return BenchConfig.model_validate_json(json.dumps(doc))
    except ValidationError as err:
        errors: dict[str, str] = {}
        for item in err.errors(include_url=False):
            errors.setdefault(".".join(str(p) for p in item["loc"]) or "config", item["msg"])
        raise InvalidConfig(errors) from err
    except (TypeError, ValueError) as err:
        raise InvalidConfig({"config": str(err)}) from err


def patch_desired(twin: Twin, patch: Any, at: datetime, if_match: int | None = None) -> Twin:
    """Merge-patch the desired config; bump its version. Raises VersionConflict or InvalidConfig."""
    if if_match is not None and if_match != twin.desired_version:
        raise VersionConflict(if_match, twin.desired_version)
    if not isinstance(patch, dict):
        raise InvalidConfig({"config": "a merge patch must be a JSON object"})
    merged = merge_patch(twin.desired.model_dump(mode="json"), patch)
    config = validate_config(merged)
    return twin.model_copy(
        update={
            "desired": config,
            "desired_version": twin.desired_version + 1,
            "desired_meta": twin.desired_meta.bump(at),
        }
    )


__all__ = [
    "Attributes",
    "ConfigState",
    "Connectivity",
    "InvalidConfig",
    "SectionMeta",
    "Twin",
    "VersionConflict",
    "apply_activity",
    "apply_reported",
    "apply_status",
    "apply_telemetry",
    "config_state_of",
    "count_vote",
    "default_config",
    "describe_errors",
    "new_twin",
    "patch_desired",
    "validate_config",
    "votes_mismatch",
]
